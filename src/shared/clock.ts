/**
 * Time as a dependency. The work queue, rate limiter, leader election and reconcilers read the time and set
 * timers only through a Clock, so unit tests drive them with {@link createManualClock} instead
 * of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The real clock. Timers are unref'd: a pending retry never keeps the process alive by itself. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimer(fn, ms) {
      const t = setTimeout(fn, Math.max(0, ms));
      t.unref();
      return () => clearTimeout(t);
    },
  };
}

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in due-time order. */
  advance(ms: number): void;
  /** Number of timers not yet fired or cancelled. */
  pending(): number;
}

/** A clock that moves only when told to; for tests. */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { due: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(fn, ms) {
      const id = seq++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return () => {
        timers.delete(id);
      };
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let next: [number, { due: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].due <= until && (!next || entry[1].due < next[1].due)) next = entry;
        }
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].due;
        next[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}

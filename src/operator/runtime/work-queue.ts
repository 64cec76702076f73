import type { Clock } from '../../shared/clock.js';
import type { WorkQueueMetrics } from '../metrics.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * A rate-limited work queue with client-go's guarantees:
 * - a key (`namespace/name`) is handed to at most one worker at a time;
 * - adding a key already waiting is a no-op (duplicates collapse);
 * - adding a key while it is being processed marks it dirty; it is queued again on `done`;
 * - `addRateLimited` waits as long as the rate limiter says (per-key backoff), `forget` resets it;
 * - `addAfter` waits on the clock (several waits for one key keep the earliest);
 * - `shutDown` drops keys not yet handed out (reconciles are level-based: the next leader or the
 *   next start re-lists everything), lets workers finish the keys they hold, and then every `get`
 *   returns undefined.
 *
 * The queue holds keys, never events: reconcilers are level-based and read the current state.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
  addRateLimited(key: string): void;
  forget(key: string): void;
  numRequeues(key: string): number;
  /** Resolves with the next key, or undefined once the queue is shut down and drained. */
  get(): Promise<string | undefined>;
  /** Must be called exactly once for every key `get` returned. */
  done(key: string): void;
  /** Keys waiting to be handed out (not counting those processing or waiting on the clock). */
  len(): number;
  /** Stops accepting keys and drops queued ones; resolves when every key handed out is done. */
  shutDown(): Promise<void>;
  isShuttingDown(): boolean;
}

export interface WorkQueueOptions {
  clock: Clock;
  rateLimiter: RateLimiter;
  metrics?: WorkQueueMetrics;
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const { clock, rateLimiter } = options;
  const queue: string[] = [];
  let head = 0;
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const waiting = new Map<string, { due: number; cancel: () => void }>();
  const getters: Array<(key: string | undefined) => void> = [];
  let shuttingDown = false;
  let drained: (() => void) | undefined;

  /** When each key not yet handed out was added, and when each key being processed was handed out. */
  const addedAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const metrics = options.metrics;

  const depth = () => queue.length - head;
  const reportDepth = () => metrics?.depth(depth());

  function handOut(key: string): void {
    const now = clock.now();
    processing.add(key);
    dirty.delete(key);
    startedAt.set(key, now);
    metrics?.taken((now - (addedAt.get(key) ?? now)) / 1000);
    addedAt.delete(key);
  }

  function push(key: string): void {
    const getter = getters.shift();
    if (getter) {
      handOut(key);
      getter(key);
      return;
    }
    queue.push(key);
    reportDepth();
  }

  function take(): string | undefined {
    if (depth() === 0) return undefined;
    const key = queue[head++] as string;
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    handOut(key);
    reportDepth();
    return key;
  }

  const self: WorkQueue = {
    add(key) {
      if (shuttingDown || dirty.has(key)) return;
      metrics?.add();
      if (!addedAt.has(key)) addedAt.set(key, clock.now());
      dirty.add(key);
      if (processing.has(key)) return;
      push(key);
    },
    addAfter(key, ms) {
      if (shuttingDown) return;
      if (ms <= 0) {
        self.add(key);
        return;
      }
      const due = clock.now() + ms;
      const existing = waiting.get(key);
      if (existing && existing.due <= due) return;
      existing?.cancel();
      const cancel = clock.setTimer(() => {
        waiting.delete(key);
        self.add(key);
      }, ms);
      waiting.set(key, { due, cancel });
    },
    addRateLimited(key) {
      metrics?.retry();
      self.addAfter(key, rateLimiter.when(key));
    },
    forget(key) {
      rateLimiter.forget(key);
    },
    numRequeues: (key) => rateLimiter.retries(key),
    get() {
      const key = take();
      if (key !== undefined) return Promise.resolve(key);
      if (shuttingDown) return Promise.resolve(undefined);
      return new Promise((resolve) => getters.push(resolve));
    },
    done(key) {
      const started = startedAt.get(key);
      startedAt.delete(key);
      if (started !== undefined) metrics?.done((clock.now() - started) / 1000);
      processing.delete(key);
      if (dirty.has(key) && !shuttingDown) {
        push(key);
      }
      if (shuttingDown && processing.size === 0) drained?.();
    },
    len: depth,
    async shutDown() {
      shuttingDown = true;
      for (const w of waiting.values()) w.cancel();
      waiting.clear();
      queue.length = 0;
      head = 0;
      dirty.clear();
      addedAt.clear();
      reportDepth();
      for (const g of getters.splice(0)) g(undefined);
      if (processing.size === 0) return;
      await new Promise<void>((resolve) => {
        drained = resolve;
      });
    },
    isShuttingDown: () => shuttingDown,
  };
  return self;
}

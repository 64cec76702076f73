import type { Clock } from '../../shared/clock.js';

/**
 * Decides how long a failed key waits before its next attempt (client-go's
 * `workqueue.RateLimiter`). `when` records a failure and returns the delay in ms; `forget` is
 * called on success and resets the key's history.
 */
export interface RateLimiter {
  when(key: string): number;
  forget(key: string): void;
  retries(key: string): number;
}

/**
 * Per-key exponential backoff: base·2^failures, capped. Client-go's default for controllers is
 * 5 ms → 1000 s.
 */
export function exponentialBackoffLimiter(options: { baseMs?: number; maxMs?: number } = {}): RateLimiter {
  const base = options.baseMs ?? 5;
  const max = options.maxMs ?? 1_000_000;
  const failures = new Map<string, number>();
  return {
    when(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      // 2^n overflows to Infinity long after the cap; Math.min keeps it finite.
      return Math.min(max, base * 2 ** n);
    },
    forget(key) {
      failures.delete(key);
    },
    retries: (key) => failures.get(key) ?? 0,
  };
}

/**
 * An overall token bucket (golang.org/x/time/rate reservation semantics): `qps` tokens per
 * second, at most `burst` saved up. Every retry takes a token; when the bucket is empty the delay
 * grows, so a storm of failures across many keys cannot hammer the API server.
 */
export function tokenBucketLimiter(options: { clock: Clock; qps?: number; burst?: number }): RateLimiter {
  const qps = options.qps ?? 10;
  const burst = options.burst ?? 100;
  let tokens = burst;
  let last = options.clock.now();
  return {
    when() {
      const now = options.clock.now();
      tokens = Math.min(burst, tokens + ((now - last) * qps) / 1000);
      last = now;
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil((-tokens / qps) * 1000);
    },
    forget() {},
    retries: () => 0,
  };
}

/** The worst (longest) delay of several limiters, as client-go's `MaxOfRateLimiter`. */
export function maxOfLimiters(...limiters: RateLimiter[]): RateLimiter {
  return {
    when: (key) => Math.max(...limiters.map((l) => l.when(key))),
    forget: (key) => limiters.forEach((l) => l.forget(key)),
    retries: (key) => Math.max(...limiters.map((l) => l.retries(key))),
  };
}

/** Client-go's `DefaultControllerRateLimiter`: per-key 5 ms → 1000 s, overall 10 qps burst 100. */
export function defaultControllerRateLimiter(clock: Clock): RateLimiter {
  return maxOfLimiters(exponentialBackoffLimiter(), tokenBucketLimiter({ clock }));
}

import { setTimeout as sleep } from 'node:timers/promises';

/** The knobs of an exponential backoff, in the GCS client library's terms. */
export interface BackoffPolicy {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** Delay before retry n (1-based) ≈ multiplier^n seconds, plus up to 1 s of jitter. */
  readonly retryDelayMultiplier: number;
  /** Cap on one delay, seconds. */
  readonly maxRetryDelay: number;
}

/**
 * The delay before retry `retry` (1 for the first retry), in ms: the formula of retry-request,
 * which the GCS client uses for its own retries, so that retries made here back off exactly as
 * the library's do. `random` is in [0, 1).
 */
export function retryDelayMs(retry: number, policy: BackoffPolicy, random: number = Math.random()): number {
  const jitter = Math.floor(random * 1000);
  return Math.min(policy.retryDelayMultiplier ** retry * 1000 + jitter, policy.maxRetryDelay * 1000);
}

export interface RetryOptions {
  readonly policy: BackoffPolicy;
  /** Whether an attempt's error is worth another attempt. */
  readonly isRetryable: (err: unknown) => boolean;
  /** Stops retrying (the running attempt is the caller's to stop); the last error is thrown. */
  readonly signal?: AbortSignal;
  /** Called before each retry's delay (a log line, a count). */
  readonly onRetry?: (err: unknown, retry: number, delayMs: number) => void;
  /** Delay before retry n, after `err`; {@link retryDelayMs} by default. */
  readonly delayMs?: (retry: number, err: unknown) => number;
}

/**
 * Runs `attempt` until it succeeds, its error is not retryable, `maxRetries` retries are spent,
 * or `signal` aborts; then throws the last error. `attempt` gets its 0-based number.
 */
export async function retryWithBackoff<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const delayOf = options.delayMs ?? ((retry: number) => retryDelayMs(retry, options.policy));
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= options.policy.maxRetries || !options.isRetryable(err) || options.signal?.aborted) throw err;
      const delay = delayOf(n + 1, err);
      options.onRetry?.(err, n + 1, delay);
      // An abort ends the wait early (timers/promises rejects with an AbortError): the attempt's error is what is thrown.
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
      if (options.signal?.aborted) throw err;
    }
  }
}

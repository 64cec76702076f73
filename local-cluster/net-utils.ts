import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). Another process may take
 * it before the caller binds it, so callers that start a server on it retry on failure.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Said in the timeout error: "timed out after 20s waiting for <what>". */
  what: string;
  /** Stops waiting early with this error (e.g. the process being waited on has exited). */
  abort?: () => Error | undefined;
}

/** Polls `check` until it returns a value other than undefined; errors it throws count as "not yet". */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw aborted;
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${opts.what}${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

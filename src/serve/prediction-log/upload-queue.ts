import type { Clock } from '../../shared/clock.js';
import { isStorageError, type Storage } from '../../shared/storage/index.js';

/** One object waiting to be written, and how many log records it carries. */
export interface Upload {
  readonly uri: string;
  readonly data: Buffer | string;
  readonly bytes: number;
  readonly records: number;
}

export interface UploadQueueOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  /** Objects written at once. */
  readonly concurrency: number;
  readonly contentType: string;
  /**
   * Create-only writes: an object already there counts as written (content-addressed images,
   * which any replica may have stored first).
   */
  readonly ifAbsent?: boolean;
  /** Backoff after a failed write, doubling up to maxMs; a success resets it. */
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  readonly onWritten?: (upload: Upload) => void;
  readonly onFailed?: (upload: Upload, err: unknown) => void;
}

export interface UploadQueue {
  /** Queues an object; its bytes count in `bytes` until it is written. */
  push(upload: Upload): void;
  /** Bytes and records not yet written (queued or in flight). */
  readonly bytes: number;
  readonly records: number;
  /**
   * Writes everything queued, retrying (after a short backoff) until `deadline` (epoch ms);
   * resolves with what could not be written by then. Later pushes keep being written.
   */
  drain(deadline: number): Promise<{ readonly records: number; readonly bytes: number }>;
}

/**
 * Writes objects to storage in the background, in order of arrival, `concurrency` at a time.
 * A failed write stays queued and the whole queue backs off (storage that failed one write is
 * likely to fail the next), then retries, so nothing queued is given up on while the process
 * lives. Bounding what is queued is the caller's job (it reads `bytes` before pushing).
 */
export function createUploadQueue(options: UploadQueueOptions): UploadQueue {
  const { storage, clock } = options;
  const queue: Upload[] = [];
  let inFlight = 0;
  let bytes = 0;
  let records = 0;
  let backoffMs = 0;
  let cancelRetry: (() => void) | undefined;
  let drainRetry: { initialMs: number; maxMs: number } | undefined;
  const idleWaiters: (() => void)[] = [];

  const notifyProgress = (): void => {
    for (const w of idleWaiters.splice(0)) w();
  };

  function pump(): void {
    while (!cancelRetry && inFlight < options.concurrency && queue.length > 0) {
      const upload = queue.shift() as Upload;
      inFlight++;
      void write(upload);
    }
  }

  async function write(upload: Upload): Promise<void> {
    let ok = false;
    try {
      await storage.write(upload.uri, upload.data, { contentType: options.contentType, ...(options.ifAbsent ? { ifAbsent: true } : {}) });
      ok = true;
    } catch (err) {
      if (options.ifAbsent && isStorageError(err, 'AlreadyExists')) ok = true;
      else options.onFailed?.(upload, err);
    }
    inFlight--;
    if (ok) {
      bytes -= upload.bytes;
      records -= upload.records;
      backoffMs = 0;
      options.onWritten?.(upload);
    } else {
      // Back to the front: it is retried first, and the queue waits out a backoff.
      queue.unshift(upload);
      const retry = drainRetry ?? options.retry;
      backoffMs = backoffMs === 0 ? retry.initialMs : Math.min(retry.maxMs, backoffMs * 2);
      cancelRetry ??= clock.setTimer(() => {
        cancelRetry = undefined;
        pump();
      }, backoffMs);
    }
    notifyProgress();
    pump();
  }

  return {
    push(upload) {
      queue.push(upload);
      bytes += upload.bytes;
      records += upload.records;
      pump();
    },
    get bytes() {
      return bytes;
    },
    get records() {
      return records;
    },
    async drain(deadline) {
      // Shutting down: retry soon rather than wait out a long backoff.
      drainRetry = { initialMs: Math.min(options.retry.initialMs, 250), maxMs: Math.min(options.retry.maxMs, 1_000) };
      if (cancelRetry) {
        cancelRetry();
        cancelRetry = undefined;
        backoffMs = 0;
      }
      pump();
      while (records > 0 || inFlight > 0) {
        const left = deadline - clock.now();
        if (left <= 0) break;
        await new Promise<void>((resolve) => {
          const cancel = clock.setTimer(resolve, left);
          idleWaiters.push(() => {
            cancel();
            resolve();
          });
        });
      }
      return { records, bytes };
    },
  };
}

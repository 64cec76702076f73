import type { Clock } from '../../shared/clock.js';
import { batchObjectName } from '../../shared/prediction-log/layout.js';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import { createUploadQueue, type Upload } from './upload-queue.js';

export interface LogWriterOptions {
  readonly storage: Storage;
  /** The stream's prefix, e.g. gs://bucket/logs/cats-dogs/predictions. */
  readonly prefix: string;
  /** Names this process in object names, so that writers never overwrite each other. */
  readonly writerId: string;
  readonly clock: Clock;
  /** Bounded wait: a batch is sealed and sent at most this long after its first record. */
  readonly flushIntervalMs: number;
  /** A batch is sealed early once it holds this many bytes. */
  readonly maxBatchBytes: number;
  /** Bounded memory: records not yet written (sealed or not) never hold more than this. */
  readonly maxBufferBytes: number;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  readonly onWritten?: (records: number) => void;
  readonly onWriteFailed?: (err: unknown) => void;
}

/** What close() could not write before its deadline. */
export interface CloseResult {
  readonly lostRecords: number;
}

export interface LogWriter {
  /**
   * Buffers one record (a JSON-serialisable object) for the next batch; never waits. Returns
   * false, keeping nothing, when the buffer is full (storage has been failing for a while).
   */
  append(record: object): boolean;
  /** Records and bytes accepted but not yet written. */
  buffered(): { readonly records: number; readonly bytes: number };
  /** Seals the open batch and writes everything, retrying until `deadline` (epoch ms). */
  close(deadline: number): Promise<CloseResult>;
}

/**
 * A JSON Lines log written in batches: records accumulate in memory and each batch becomes one
 * new object (`<prefix>/<date>/<hour>/<time>-<writer>-<seq>.jsonl`) once it is a flush interval
 * old or large enough. Objects are written in order by a background queue that retries a failed
 * write with backoff, so a storage outage only grows the buffer; once the buffer would exceed
 * `maxBufferBytes`, append() refuses records (the caller counts them as dropped). A retried
 * batch keeps its object name, so a write that succeeded but looked failed is never duplicated.
 */
export function createLogWriter(options: LogWriterOptions): LogWriter {
  const { clock } = options;
  let lines: string[] = [];
  let openBytes = 0;
  let openedAt = 0;
  let sequence = 0;
  let cancelSeal: (() => void) | undefined;
  let closed = false;
  const queue = createUploadQueue({
    storage: options.storage,
    clock,
    concurrency: 1,
    contentType: 'application/x-ndjson',
    retry: options.retry,
    onWritten: (u: Upload) => options.onWritten?.(u.records),
    onFailed: (_u: Upload, err: unknown) => options.onWriteFailed?.(err),
  });

  function seal(): void {
    cancelSeal?.();
    cancelSeal = undefined;
    if (lines.length === 0) return;
    const name = batchObjectName(new Date(openedAt), options.writerId, sequence++);
    const data = lines.join('');
    queue.push({ uri: joinUri(options.prefix, name), data, bytes: openBytes, records: lines.length });
    lines = [];
    openBytes = 0;
  }

  return {
    append(record) {
      if (closed) return false;
      const line = `${JSON.stringify(record)}\n`;
      const size = Buffer.byteLength(line);
      if (queue.bytes + openBytes + size > options.maxBufferBytes) return false;
      if (lines.length === 0) {
        openedAt = clock.now();
        cancelSeal = clock.setTimer(seal, options.flushIntervalMs);
      }
      lines.push(line);
      openBytes += size;
      if (openBytes >= options.maxBatchBytes) seal();
      return true;
    },
    buffered() {
      return { records: queue.records + lines.length, bytes: queue.bytes + openBytes };
    },
    async close(deadline) {
      closed = true;
      seal();
      const left = await queue.drain(deadline);
      return { lostRecords: left.records };
    },
  };
}

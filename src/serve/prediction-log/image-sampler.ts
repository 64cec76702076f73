import { LRUCache } from 'lru-cache';
import type { Clock } from '../../shared/clock.js';
import { imageKey } from '../../shared/prediction-log/layout.js';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import { createUploadQueue, type UploadQueue } from './upload-queue.js';

export interface ImageSamplerOptions {
  readonly storage: Storage;
  readonly logUri: string;
  readonly clock: Clock;
  /** Share of predictions whose image is stored (0 = none, 1 = every one). */
  readonly sampleRate: number;
  /** Images waiting to be written never hold more than this. */
  readonly maxBufferBytes: number;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** Uniform [0, 1); injectable so tests can choose what is sampled. */
  readonly random?: () => number;
  readonly onWritten?: () => void;
  readonly onWriteFailed?: (err: unknown) => void;
}

/** The stored image's key (relative to the log), or why it is not stored. */
export interface ImageOffer {
  readonly stored?: string;
  readonly why?: 'not-sampled' | 'buffer-full';
}

export interface ImageSampler {
  /** Decides whether to store this image and queues it; never waits. */
  offer(sha256: string, bytes: Buffer): ImageOffer;
  readonly queue: Pick<UploadQueue, 'bytes' | 'records' | 'drain'>;
}

/**
 * Stores a sample of the predicted images, content-addressed (`<log>/images/<sha256>`), so that
 * a correction can later become a training example. An image seen recently (queued or written
 * by this process) is not written again, and create-only writes let any replica have stored it
 * first. Writes go through a retrying background queue bounded by bytes: when it is full the
 * image is not kept (the caller counts it).
 */
export function createImageSampler(options: ImageSamplerOptions): ImageSampler {
  const random = options.random ?? Math.random;
  const recent = new LRUCache<string, true>({ max: 10_000 });
  const queue = createUploadQueue({
    storage: options.storage,
    clock: options.clock,
    concurrency: 2,
    contentType: 'application/octet-stream',
    ifAbsent: true,
    retry: options.retry,
    onWritten: () => options.onWritten?.(),
    onFailed: (_u, err) => options.onWriteFailed?.(err),
  });
  return {
    offer(sha256, bytes) {
      if (options.sampleRate <= 0 || random() >= options.sampleRate) return { why: 'not-sampled' };
      const key = imageKey(sha256);
      if (recent.has(sha256)) return { stored: key };
      if (queue.bytes + bytes.length > options.maxBufferBytes) return { why: 'buffer-full' };
      recent.set(sha256, true);
      queue.push({ uri: joinUri(options.logUri, key), data: bytes, bytes: bytes.length, records: 1 });
      return { stored: key };
    },
    queue,
  };
}

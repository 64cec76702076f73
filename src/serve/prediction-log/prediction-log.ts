import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { streamPrefix } from '../../shared/prediction-log/layout.js';
import type { FeedbackRecord, PredictionRecord } from '../../shared/prediction-log/records.js';
import type { Storage } from '../../shared/storage/index.js';
import { createImageSampler } from './image-sampler.js';
import type { LogMetrics } from './log-metrics.js';
import { createLogWriter, type LogWriter } from './log-writer.js';

export interface PredictionLogSettings {
  /** The log's prefix (file://, gs:// or a path). */
  readonly uri: string;
  /** Share of predictions whose image is stored, 0..1. */
  readonly imageSampleRate: number;
  /** Bounded wait: prediction batches are sent at most this long after their first record. */
  readonly flushIntervalMs: number;
  /** Bounded memory: unwritten prediction records (feedback and images have their own budgets). */
  readonly maxBufferBytes: number;
  readonly maxImageBufferBytes: number;
}

export interface PredictionLogDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: LogMetrics;
  /** This process in object names and records (pod name + a per-process suffix). */
  readonly writerId: string;
}

/** What a prediction record is made of, before the log adds its writer and stored image. */
export type PredictionEntry = Omit<PredictionRecord, 'kind' | 'writer' | 'image'> & { readonly image: { readonly sha256: string; readonly bytes: number } };

export interface PredictionLog {
  readonly writerId: string;
  /** Logs one answered image (and stores the image when sampled); never waits, never throws. */
  recordPrediction(entry: PredictionEntry, image: Buffer): void;
  /** Logs accepted feedback; false (nothing kept) when the feedback buffer is full. */
  recordFeedback(record: Omit<FeedbackRecord, 'kind' | 'writer'>): boolean;
  /** Bytes not yet written, per stream. */
  bufferedBytes(stream: 'predictions' | 'feedback' | 'images'): number;
  /** Writes everything buffered, retrying until `deadline` (epoch ms); counts what is left as dropped. */
  close(deadline: number): Promise<{ readonly lost: number }>;
}

const RETRY = { initialMs: 500, maxMs: 30_000 };
const FEEDBACK_BUFFER_BYTES = 16 * 1024 * 1024;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * The serving side of the learning loop's storage: two batched JSON Lines streams (predictions,
 * feedback) and the sampled images, each with its own memory budget so that a flood of
 * predictions never crowds out a correction. Feedback batches are sent within a second
 * (a person's correction is the rarest and most valuable record); predictions within
 * `flushIntervalMs`.
 */
export function createPredictionLog(settings: PredictionLogSettings, deps: PredictionLogDeps): PredictionLog {
  const { metrics, logger } = deps;
  const writer = (stream: 'predictions' | 'feedback', flushIntervalMs: number, maxBufferBytes: number): LogWriter =>
    createLogWriter({
      storage: deps.storage,
      prefix: streamPrefix(settings.uri, stream),
      writerId: deps.writerId,
      clock: deps.clock,
      flushIntervalMs,
      maxBatchBytes: Math.min(MAX_BATCH_BYTES, maxBufferBytes),
      maxBufferBytes,
      retry: RETRY,
      onWritten: (n) => metrics.written(stream, n),
      onWriteFailed: (err) => {
        metrics.writeFailed(stream);
        logger.warn({ stream, err }, 'prediction log write failed; retrying');
      },
    });
  const predictions = writer('predictions', settings.flushIntervalMs, settings.maxBufferBytes);
  const feedback = writer('feedback', Math.min(1_000, settings.flushIntervalMs), FEEDBACK_BUFFER_BYTES);
  const images = createImageSampler({
    storage: deps.storage,
    logUri: settings.uri,
    clock: deps.clock,
    sampleRate: settings.imageSampleRate,
    maxBufferBytes: settings.maxImageBufferBytes,
    retry: RETRY,
    onWritten: () => metrics.written('images', 1),
    onWriteFailed: (err) => {
      metrics.writeFailed('images');
      logger.warn({ stream: 'images', err }, 'prediction log image write failed; retrying');
    },
  });

  return {
    writerId: deps.writerId,
    recordPrediction(entry, image) {
      const offer = images.offer(entry.image.sha256, image);
      if (offer.stored) metrics.appended('images');
      else if (offer.why === 'buffer-full') metrics.dropped('images', 'buffer_full');
      const record: PredictionRecord = {
        kind: 'prediction',
        ...entry,
        image: { ...entry.image, ...(offer.stored ? { stored: offer.stored } : {}) },
        writer: deps.writerId,
      };
      if (predictions.append(record)) metrics.appended('predictions');
      else metrics.dropped('predictions', 'buffer_full');
    },
    recordFeedback(record) {
      const ok = feedback.append({ kind: 'feedback', ...record, writer: deps.writerId } satisfies FeedbackRecord);
      if (ok) metrics.appended('feedback');
      return ok;
    },
    bufferedBytes(stream) {
      if (stream === 'images') return images.queue.bytes;
      return (stream === 'predictions' ? predictions : feedback).buffered().bytes;
    },
    async close(deadline) {
      const [p, f, i] = await Promise.all([predictions.close(deadline), feedback.close(deadline), images.queue.drain(deadline)]);
      metrics.dropped('predictions', 'shutdown', p.lostRecords);
      metrics.dropped('feedback', 'shutdown', f.lostRecords);
      metrics.dropped('images', 'shutdown', i.records);
      const lost = p.lostRecords + f.lostRecords + i.records;
      if (lost > 0) logger.error({ predictions: p.lostRecords, feedback: f.lostRecords, images: i.records }, 'prediction log records not written before the shutdown deadline');
      else logger.info({}, 'prediction log flushed');
      return { lost };
    },
  };
}

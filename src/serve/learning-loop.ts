import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { storageFor, type Storage } from '../shared/storage/index.js';
import type { ServeConfig } from './config.js';
import { FeedbackDesk } from './feedback/feedback-desk.js';
import { createPredictionIdSigner } from './feedback/prediction-id.js';
import { loadSigningKey } from './feedback/signing-key.js';
import type { ModelIdentity } from './model-info.js';
import { LogMetrics } from './prediction-log/log-metrics.js';
import { createPredictionLog, type PredictionLog } from './prediction-log/prediction-log.js';

export interface LearningLoop {
  readonly feedback: FeedbackDesk;
  readonly predictionLog?: PredictionLog;
  /** Resolves once prediction ids can be signed (the shared key is loaded); rejects when it cannot be. */
  readonly ready: Promise<void>;
  /** Writes what the log holds, bounded by `logFlushTimeoutSeconds`. */
  close(): Promise<void>;
}

export interface LearningLoopOptions {
  readonly registry: Registry;
  readonly identity: ModelIdentity;
  readonly logger: Logger;
  /** Storage of the prediction log; default storageFor(config.predictionLog). */
  readonly storage?: Storage;
  readonly clock?: Clock;
}

/**
 * The serving side of the learning loop, wired from the config: the feedback desk (signed
 * prediction ids) and, with `--prediction-log`, the durable log and the key shared through it.
 * Without a log the key is random per process: feedback still counts in the metrics, but only
 * on the replica that answered.
 */
export function startLearningLoop(config: ServeConfig, options: LearningLoopOptions): LearningLoop {
  const clock = options.clock ?? systemClock();
  const logger = options.logger.child({ part: 'prediction-log' });
  const feedback = new FeedbackDesk({ maxAgeMs: config.feedbackTtlSeconds * 1000, rememberCapacity: config.feedbackCapacity });
  if (!config.predictionLog) {
    feedback.setSigner(createPredictionIdSigner(randomBytes(32)));
    return { feedback, ready: Promise.resolve(), close: async () => undefined };
  }
  const uri = config.predictionLog;
  // The log's queues retry for as long as the process lives: the client's own retries only
  // need to ride out a blip, not hold a write for minutes.
  const storage = options.storage ?? storageFor(uri, { gcsRetry: LOG_GCS_RETRY });
  const predictionLog: PredictionLog = createPredictionLog(
    {
      uri,
      imageSampleRate: config.imageSampleRate,
      flushIntervalMs: config.logFlushSeconds * 1000,
      maxBufferBytes: config.logBufferBytes,
      maxImageBufferBytes: config.logImageBufferBytes,
    },
    {
      storage,
      clock,
      logger,
      writerId: writerId(),
      metrics: new LogMetrics({ registry: options.registry, ...modelLabels(options.identity), buffered: (stream) => predictionLog.bufferedBytes(stream) }),
    },
  );
  const ready = loadSigningKey({ storage, logUri: uri, clock, logger, deadline: clock.now() + config.loadTimeoutSeconds * 1000 }).then((key) => {
    feedback.setSigner(createPredictionIdSigner(key));
    logger.info({ uri, writer: predictionLog.writerId, imageSampleRate: config.imageSampleRate }, 'prediction log ready');
  });
  return {
    feedback,
    predictionLog,
    ready,
    close: async () => {
      await predictionLog.close(clock.now() + config.logFlushTimeoutSeconds * 1000);
    },
  };
}

const LOG_GCS_RETRY = { maxRetries: 2, retryDelayMultiplier: 2, maxRetryDelay: 4, totalTimeout: 30 };

const modelLabels = (identity: ModelIdentity): { model: string; version: string } => ({ model: identity.name, version: identity.version });

/** This process in object names: the pod name (HOSTNAME) and a random suffix, so a restarted container never reuses a name. */
function writerId(): string {
  const host = (process.env.HOSTNAME || hostname()).replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 63) || 'serve';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

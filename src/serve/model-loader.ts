import sharp from 'sharp';
import { loadArtifact } from '../ml/artifact.js';
import type { BackendPreference } from '../ml/backend/select.js';
import { decodeImagePixels } from '../ml/image.js';
import type { ModelMetadata } from '../ml/metadata.js';
import type { Logger } from '../shared/logger.js';
import { joinUri, type Storage } from '../shared/storage/index.js';
import { TerminalError } from '../shared/errors.js';
import { Classifier } from './classifier.js';
import { foldBatchNorm } from './fold-batch-norm.js';
import { createInProcessPredictor } from './in-process-predictor.js';
import type { LoadedModel } from './model-info.js';
import { modelToPayload } from './model-transfer.js';
import type { Predictor } from './predictor.js';
import { createWorkerPoolPredictor } from './worker-pool-predictor.js';

export interface BatchingOptions {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  readonly maxQueue: number;
}

export interface LoadModelOptions {
  readonly uri: string;
  readonly storage: Storage;
  /** Model worker threads; 0 runs the model on the main thread. */
  readonly workers: number;
  readonly backend: BackendPreference;
  readonly batching: BatchingOptions;
  /** Decompression-bomb guard: largest width × height accepted. */
  readonly maxPixels: number;
  /** Top-class probability below which answers carry label null (0: never). */
  readonly minConfidence?: number;
  readonly logger: Logger;
  /** Hook for the classes, called before the warm-up (metrics zero their per-class series). */
  readonly onClasses?: (classes: readonly string[]) => void;
  readonly onBatch?: (size: number) => void;
}

const SCALE = 1 / 255;

/**
 * Loads the artifact at `uri` once (metadata, model, sha256 of the weights verified by
 * loadArtifact), folds batch norms into the convolutions for inference, hands a copy to each
 * model worker, and runs a warm-up prediction through the
 * whole path (JPEG decode, batcher, model). Resolves only when the model can answer; throws a
 * TerminalError (reason for /readyz) when the artifact is unusable.
 */
export async function loadServedModel(options: LoadModelOptions): Promise<LoadedModel> {
  const { uri, storage, logger } = options;
  const loadedArtifact = await loadArtifact(uri, storage);
  const { metadata } = loadedArtifact;
  const { model, folded } = await foldBatchNorm(loadedArtifact.model);
  if (model !== loadedArtifact.model) loadedArtifact.model.dispose();
  logger.info({ foldedBatchNorms: folded }, 'artifact loaded and verified');
  let predictor: Predictor | undefined;
  let modelHandedOver = false;
  try {
    checkServable(metadata);
    const size = metadata.preprocessing.size;
    const numClasses = metadata.classes.length;
    options.onClasses?.(metadata.classes);
    if (options.workers > 0) {
      const payload = await modelToPayload(model);
      model.dispose();
      modelHandedOver = true;
      predictor = await createWorkerPoolPredictor({ payload, size, numClasses, workers: options.workers, backend: options.backend, logger });
    } else {
      predictor = createInProcessPredictor({ model, size, numClasses });
      modelHandedOver = true;
    }
    // Every upload is a new image: libvips's operation cache only costs time (~0.35 ms an image).
    sharp.cache(false);
    const classifier = new Classifier({
      predictor,
      classes: metadata.classes,
      decode: (image) => decodeImagePixels(image, { size, resize: metadata.preprocessing.resize, maxPixels: options.maxPixels }),
      maxBatchSize: options.batching.maxBatchSize,
      maxWaitMs: options.batching.maxWaitMs,
      maxQueue: options.batching.maxQueue,
      concurrency: Math.max(1, options.workers),
      ...(options.minConfidence ? { minConfidence: options.minConfidence } : {}),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    });
    const warm = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
    const [warmup] = await classifier.classify([warm]);
    const stats = await predictor.stats();
    logger.info({ classes: metadata.classes, size, backend: stats.backend, warmupLabel: warmup?.label }, 'model loaded and warmed up');
    const evaluation = await readEvaluation(uri, storage, logger);
    return {
      classes: metadata.classes,
      size,
      backend: stats.backend,
      classifier,
      predictor,
      metadata: metadata as unknown as Record<string, unknown>,
      ...(evaluation ? { evaluation } : {}),
    };
  } catch (err) {
    if (predictor) await predictor.close();
    else if (!modelHandedOver) model.dispose();
    throw err;
  }
}

function checkServable(metadata: ModelMetadata): void {
  const { preprocessing, inputShape } = metadata;
  if (Math.abs(preprocessing.scale - SCALE) > 1e-9) {
    throw new TerminalError('UnsupportedPreprocessing', `preprocessing.scale ${preprocessing.scale} is not 1/255, the only input scaling the server implements`);
  }
  if (inputShape[0] !== preprocessing.size || inputShape[1] !== preprocessing.size) {
    throw new TerminalError('UnsupportedPreprocessing', `inputShape ${inputShape.join('×')} does not match preprocessing.size ${preprocessing.size}`);
  }
}

/** metrics.json of the artifact (the offline evaluation), when present and an object. */
async function readEvaluation(uri: string, storage: Storage, logger: Logger): Promise<Record<string, unknown> | undefined> {
  const metricsUri = joinUri(uri, 'metrics.json');
  try {
    if (!(await storage.exists(metricsUri))) return undefined;
    const json: unknown = JSON.parse((await storage.read(metricsUri)).toString('utf8'));
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch (err) {
    logger.warn({ err, uri: metricsUri }, 'evaluation metrics unreadable; serving without them');
    return undefined;
  }
}

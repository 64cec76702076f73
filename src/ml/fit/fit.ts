import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.js';
import { createModel } from '../model-factory.js';
import { sharedCopy, trainDataParallel } from './data-parallel.js';
import type { ImageReplicaInit } from './image-replica.js';
import { replicaModule, startReplicas, type ReplicaHost } from './replica-host.js';
import type { EpochLog, FitOptions, LabeledImages } from './types.js';

/** What the pretrained recipe adds to a result: where the backbone came from and how the head was calibrated. */
export interface PretrainedSummary {
  readonly backbone: { readonly package: string; readonly version: string; readonly license: string; readonly model: string; readonly cut: string; readonly boundary: string; readonly trainableBlocks: readonly string[] };
  /** Temperature folded into the head (softmax(z / T)), fitted on the validation split. */
  readonly temperature: number;
  /** The head phase on frozen features (before the fine-tuning epochs in `history`). */
  readonly headHistory: readonly EpochLog[];
  readonly seconds: { readonly features: number; readonly head: number; readonly fineTune: number };
}

export interface FitResult {
  /** The model with the weights of the best epoch (lowest validation loss). */
  model: tf.LayersModel;
  history: EpochLog[];
  /** 1-based epoch whose weights the model holds. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Backend the replicas trained on ('wasm', 'tensorflow' or 'cpu'). */
  backend: string;
  /** Number of data-parallel replicas used (1 when training in this thread). */
  replicas: number;
  pretrained?: PretrainedSummary;
}

/**
 * Trains `spec` from scratch with Adam on `train`, validating after every epoch; stops after
 * `earlyStopping.patience` epochs without a lower validation loss and returns the best weights.
 * Data parallel over `workers` replicas in worker threads (one per core by default, since the
 * WebAssembly backend is single-threaded): see trainDataParallel. Batches, augmentation and
 * dropout derive from `seed`, so a run is reproducible for a given seed and replica count.
 */
export async function fit(options: FitOptions): Promise<FitResult> {
  validate(options);
  const { spec, train, validation } = options;
  const workers = options.workers ?? Math.min(2, os.availableParallelism());
  const init: ImageReplicaInit = {
    spec,
    learningRate: options.learningRate,
    backend: options.backend ?? 'auto',
    augmentation: options.augmentation,
    imageSize: train.imageSize,
    trainPixels: sharedCopy(train.pixels),
    trainLabels: train.labels,
    valPixels: sharedCopy(validation.pixels),
    valLabels: validation.labels,
  };
  const hosts = await startReplicas({ module: replicaModule(import.meta.url, 'image-replica'), init }, workers);
  try {
    await selectBackend({ preference: init.backend });
    const run = await trainDataParallel({
      hosts,
      trainCount: train.count,
      validationCount: validation.count,
      epochs: options.epochs,
      batchSize: options.batchSize,
      learningRate: options.learningRate,
      ...(options.learningRateSchedule ? { learningRateSchedule: options.learningRateSchedule } : {}),
      patience: options.earlyStopping.patience,
      seed: options.seed,
      ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    });
    const model = createModel(spec);
    if (run.bestWeights.length) {
      const tensors = model.weights.map((w, i) => tf.tensor(run.bestWeights[i] as Float32Array, w.shape as number[], 'float32'));
      model.setWeights(tensors);
      tensors.forEach((t) => t.dispose());
    }
    return { model, history: run.history, bestEpoch: run.bestEpoch, stoppedEarly: run.stoppedEarly, backend: (hosts[0] as ReplicaHost).backend, replicas: hosts.length };
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
}

function validate(o: FitOptions): void {
  const check = (name: string, d: LabeledImages): void => {
    if (d.imageSize !== o.spec.imageSize) throw new RangeError(`${name}: imageSize ${d.imageSize} differs from the model's ${o.spec.imageSize}`);
    if (d.pixels.length !== d.count * d.imageSize * d.imageSize * 3) throw new RangeError(`${name}: pixels hold ${d.pixels.length} bytes, expected ${d.count}×${d.imageSize}²×3`);
    if (d.labels.length !== d.count) throw new RangeError(`${name}: ${d.labels.length} labels for ${d.count} images`);
    for (const l of d.labels) if (!(l >= 0 && l < o.spec.numClasses)) throw new RangeError(`${name}: label ${l} outside [0, ${o.spec.numClasses})`);
  };
  check('train', o.train);
  check('validation', o.validation);
  if (o.train.count < 2) throw new RangeError('fit needs at least 2 training images');
  if (o.validation.count < 1) throw new RangeError('fit needs at least 1 validation image');
  if (!(o.epochs >= 1) || !(o.batchSize >= 1) || !(o.learningRate > 0)) throw new RangeError('epochs, batchSize and learningRate must be positive');
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 0 && o.workers <= 16)) throw new RangeError(`workers must be an integer in [0, 16], got ${o.workers}`);
}

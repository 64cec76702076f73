import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.js';
import { createModel } from '../model-factory.js';
import { shuffledIndices } from './augment.js';
import { seededRandom } from '../../shared/random.js';
import { LocalReplicaHost, WorkerReplicaHost, type HostInit, type ReplicaHost } from './replica-host.js';
import type { EpochLog, FitOptions, LabeledImages } from './types.js';

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
}

/**
 * Trains `spec` from scratch with Adam on `train`, validating after every epoch; stops after
 * `earlyStopping.patience` epochs without a lower validation loss and returns the best weights.
 *
 * Data parallel: each batch is split across `workers` replicas in worker threads (one per core by
 * default, since the WebAssembly backend is single-threaded); each computes gradients on its part,
 * the gradients are averaged (weighted by part size) and every replica applies the same Adam
 * update, so trainable weights stay identical. Batch-norm moving statistics are averaged across
 * replicas at the end of each epoch. Batches, augmentation and dropout derive from `seed`, so a run
 * is reproducible for a given seed and replica count.
 */
export async function fit(options: FitOptions): Promise<FitResult> {
  validate(options);
  const { spec, train, validation, epochs, batchSize } = options;
  const workers = options.workers ?? Math.min(2, os.availableParallelism());
  const init: HostInit = {
    spec,
    learningRate: options.learningRate,
    backend: options.backend ?? 'auto',
    augmentation: options.augmentation,
    imageSize: train.imageSize,
    trainPixels: shared(train.pixels),
    trainLabels: train.labels,
    valPixels: shared(validation.pixels),
    valLabels: validation.labels,
  };
  const hosts: ReplicaHost[] =
    workers === 0 ? [await LocalReplicaHost.create(init)] : await Promise.all(Array.from({ length: workers }, () => WorkerReplicaHost.create(init)));
  try {
    await selectBackend({ preference: init.backend });
    const model = createModel(spec);
    const trainable = model.weights.map((w) => w.trainable);
    const rng = seededRandom(options.seed);
    const history: EpochLog[] = [];
    let best = { valLoss: Infinity, epoch: 0, weights: undefined as Float32Array[] | undefined };
    let stoppedEarly = false;

    for (let epoch = 1; epoch <= epochs; epoch++) {
      const started = performance.now();
      const order = shuffledIndices(train.count, rng);
      const batches = Math.max(1, Math.floor(train.count / batchSize) + (train.count % batchSize >= hosts.length * 2 ? 1 : 0));
      let pending: Float32Array | undefined;
      let pendingRate = options.learningRate;
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        const idx = order.subarray(b * batchSize, Math.min(train.count, (b + 1) * batchSize));
        const parts = split(idx, hosts.length);
        const stepSeed = (options.seed * 7919 + epoch * 104729 + b * 31) >>> 0;
        const results = await Promise.all(hosts.map((h, i) => h.step({ apply: pending, learningRate: pendingRate, indices: parts[i] as Int32Array, seed: stepSeed + i })));
        pending = average(results.map((r) => ({ grads: r.grads, weight: r.count })));
        pendingRate = rateAt(options, (epoch - 1 + b / batches) / epochs);
        for (const r of results) {
          lossSum += r.loss * r.count;
          correct += r.correct;
          seen += r.count;
        }
        options.onBatch?.({ epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen });
      }
      if (pending) {
        const last = pending;
        await Promise.all(hosts.map((h) => h.apply(last, pendingRate)));
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const weights = await synchronise(hosts, trainable);
      const evals = await Promise.all(split(Int32Array.from({ length: validation.count }, (_, i) => i), hosts.length).map((p, i) => (p.length ? (hosts[i] as ReplicaHost).evaluate(p[0] as number, (p[p.length - 1] as number) + 1) : { lossSum: 0, correct: 0, count: 0 })));
      const valCount = evals.reduce((s, e) => s + e.count, 0);
      const log: EpochLog = {
        epoch,
        epochs,
        loss: lossSum / seen,
        accuracy: correct / seen,
        valLoss: evals.reduce((s, e) => s + e.lossSum, 0) / valCount,
        valAccuracy: evals.reduce((s, e) => s + e.correct, 0) / valCount,
        imagesPerSecond: seen / trainSeconds,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      options.onEpoch?.(log);
      if (log.valLoss < best.valLoss) {
        best = { valLoss: log.valLoss, epoch, weights };
      } else if (epoch - best.epoch >= options.earlyStopping.patience) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
    if (best.weights) {
      const tensors = model.weights.map((w, i) => tf.tensor((best.weights as Float32Array[])[i] as Float32Array, w.shape as number[], 'float32'));
      model.setWeights(tensors);
      tensors.forEach((t) => t.dispose());
    }
    return { model, history, bestEpoch: best.epoch, stoppedEarly, backend: (hosts[0] as ReplicaHost).backend, replicas: hosts.length };
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
}

/** Learning rate at `progress` ∈ [0, 1) of the whole run. */
function rateAt(o: FitOptions, progress: number): number {
  if (o.learningRateSchedule === 'constant') return o.learningRate;
  return o.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
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

/** A copy of `bytes` in shared memory (or `bytes` itself if already shared), for worker threads. */
function shared(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

/** Splits indices into `k` contiguous parts of near-equal size. */
function split(idx: Int32Array, k: number): Int32Array[] {
  const parts: Int32Array[] = [];
  for (let i = 0; i < k; i++) parts.push(idx.subarray(Math.floor((i * idx.length) / k), Math.floor(((i + 1) * idx.length) / k)));
  return parts;
}

function average(items: { grads: Float32Array; weight: number }[]): Float32Array {
  const total = items.reduce((s, i) => s + i.weight, 0);
  const first = items[0] as { grads: Float32Array; weight: number };
  if (items.length === 1) return first.grads;
  const out = new Float32Array(first.grads.length);
  for (const { grads, weight } of items) {
    const w = weight / total;
    for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + (grads[j] as number) * w;
  }
  return out;
}

/** Averages the non-trainable weights (batch-norm statistics) of all replicas; returns the result. */
async function synchronise(hosts: ReplicaHost[], trainable: boolean[]): Promise<Float32Array[]> {
  const all = await Promise.all(hosts.map((h) => h.getWeights()));
  const first = all[0] as Float32Array[];
  if (hosts.length === 1) return first;
  const merged = first.map((w, i) => {
    if (trainable[i]) return w;
    const out = new Float32Array(w.length);
    for (const ws of all) {
      const v = ws[i] as Float32Array;
      for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + (v[j] as number) / all.length;
    }
    return out;
  });
  await Promise.all(hosts.map((h) => h.setWeights(merged)));
  return merged;
}

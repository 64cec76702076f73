import { seededRandom } from '../../shared/random.js';
import { shuffledIndices } from './augment.js';
import type { ReplicaHost } from './replica-host.js';
import type { BatchInfo, EpochLog } from './types.js';

export interface DataParallelOptions {
  /** The replicas, all started from the same weights. */
  readonly hosts: readonly ReplicaHost[];
  readonly trainCount: number;
  readonly validationCount: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate (Adam's, applied inside the replicas). */
  readonly learningRate: number;
  /** 'cosine' (default): half a cosine from `learningRate` to 0 over all steps; 'constant': fixed. */
  readonly learningRateSchedule?: 'cosine' | 'constant';
  /** Stop after this many epochs without a lower validation loss. */
  readonly patience: number;
  readonly seed: number;
  onEpoch?(log: EpochLog): void;
  onBatch?(info: BatchInfo): void;
}

export interface DataParallelResult {
  readonly history: EpochLog[];
  /** 1-based epoch of `bestWeights` (lowest validation loss). */
  readonly bestEpoch: number;
  /** Every weight (getWeights order) of the best epoch. */
  readonly bestWeights: Float32Array[];
  readonly stoppedEarly: boolean;
}

/**
 * Data-parallel training over replicas: each batch is split across the replicas, each computes
 * gradients on its part, the gradients are averaged (weighted by part size) and every replica
 * applies the same update (sent with the next step, one round trip per step), so trainable
 * weights stay identical. Non-trainable weights (batch-norm statistics) are averaged at the end of
 * each epoch. Validation after every epoch, split across the replicas; early stopping; the best
 * epoch's weights are returned. Batches derive from `seed`, so a run is reproducible for a given
 * seed and replica count.
 */
export async function trainDataParallel(o: DataParallelOptions): Promise<DataParallelResult> {
  const { hosts, epochs, batchSize } = o;
  const rng = seededRandom(o.seed);
  const history: EpochLog[] = [];
  let best = { valLoss: Infinity, epoch: 0, weights: [] as Float32Array[] };
  let stoppedEarly = false;
  const trainable = (hosts[0] as ReplicaHost).trainable;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const started = performance.now();
    const order = shuffledIndices(o.trainCount, rng);
    const batches = Math.max(1, Math.floor(o.trainCount / batchSize) + (o.trainCount % batchSize >= hosts.length * 2 ? 1 : 0));
    let pending: Float32Array | undefined;
    let pendingRate = o.learningRate;
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < batches; b++) {
      const idx = order.subarray(b * batchSize, Math.min(o.trainCount, (b + 1) * batchSize));
      const parts = split(idx, hosts.length);
      const stepSeed = (o.seed * 7919 + epoch * 104729 + b * 31) >>> 0;
      const results = await Promise.all(hosts.map((h, i) => h.step({ apply: pending, learningRate: pendingRate, indices: parts[i] as Int32Array, seed: stepSeed + i })));
      pending = average(results.map((r) => ({ grads: r.grads, weight: r.count })));
      pendingRate = rateAt(o, (epoch - 1 + b / batches) / epochs);
      for (const r of results) {
        lossSum += r.loss * r.count;
        correct += r.correct;
        seen += r.count;
      }
      o.onBatch?.({ epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen });
    }
    if (pending) {
      const last = pending;
      await Promise.all(hosts.map((h) => h.apply(last, pendingRate)));
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const weights = await synchronise(hosts, trainable);
    const ranges = split(Int32Array.from({ length: o.validationCount }, (_, i) => i), hosts.length);
    const evals = await Promise.all(ranges.map((p, i) => (p.length ? (hosts[i] as ReplicaHost).evaluate(p[0] as number, (p[p.length - 1] as number) + 1) : { lossSum: 0, correct: 0, count: 0 })));
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
    o.onEpoch?.(log);
    if (log.valLoss < best.valLoss) {
      best = { valLoss: log.valLoss, epoch, weights };
    } else if (epoch - best.epoch >= o.patience) {
      stoppedEarly = epoch < epochs;
      break;
    }
  }
  return { history, bestEpoch: best.epoch, bestWeights: best.weights, stoppedEarly };
}

/** Learning rate at `progress` ∈ [0, 1) of the whole run. */
function rateAt(o: DataParallelOptions, progress: number): number {
  if (o.learningRateSchedule === 'constant') return o.learningRate;
  return o.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}

/** Splits indices into `k` contiguous parts of near-equal size. */
export function split(idx: Int32Array, k: number): Int32Array[] {
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
async function synchronise(hosts: readonly ReplicaHost[], trainable: readonly boolean[]): Promise<Float32Array[]> {
  const all = await Promise.all(hosts.map((h) => h.getWeights()));
  const first = all[0] as Float32Array[];
  if (hosts.length === 1 || trainable.every(Boolean)) return first;
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

/** A copy of `bytes` in shared memory (or `bytes` itself if already shared), for worker threads. */
export function sharedCopy<T extends Uint8Array | Float32Array | Int32Array>(data: T): T {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const Ctor = data.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(data.byteLength));
  out.set(data as never);
  return out;
}

import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../shared/random.js';
import { shuffledIndices } from '../fit/augment.js';
import type { EpochLog } from '../fit/types.js';
import { assignAll } from './assign.js';

/** A network that maps a batch of inputs to class logits, with the variables training updates. */
export interface LogitNet {
  variables(): tf.Variable[];
  /** x → logits [n, classes]; `training` turns dropout on (seeded by `seed`). */
  logits(x: tf.Tensor, training: boolean, seed: number): tf.Tensor2D;
}

/** Training examples by index: `batch` builds the input tensor of the given examples (augmented with `seed` when asked). */
export interface ExampleSource {
  readonly count: number;
  readonly labels: Int32Array;
  batch(indices: Int32Array, augment: { seed: number } | undefined): tf.Tensor;
}

export interface TrainLoopOptions {
  readonly net: LogitNet;
  readonly numClasses: number;
  readonly train: ExampleSource;
  readonly validation: ExampleSource;
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak Adam learning rate, decayed along half a cosine to 0 over all steps. */
  readonly learningRate: number;
  /** Stop after this many epochs without a lower validation loss (0: never). */
  readonly patience: number;
  /** L2 penalty on the variables named in `decay` (e.g. the head's kernel). */
  readonly weightDecay?: { readonly rate: number; readonly variables: readonly tf.Variable[] };
  readonly augment: boolean;
  readonly seed: number;
  onEpoch?(log: EpochLog): void;
  onBatch?(info: { epoch: number; batch: number; batches: number; loss: number; accuracy: number }): void;
}

export interface TrainLoopResult {
  readonly history: EpochLog[];
  /** 1-based epoch whose weights the variables hold on return (lowest validation loss). */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  /** The best epoch's validation logits [validation.count, classes], for calibration. */
  readonly validationLogits: Float32Array;
}

/**
 * Mini-batch Adam on softmax cross-entropy with a cosine learning rate, validation after every
 * epoch, early stopping, and the best epoch's weights restored at the end. Runs on this thread.
 */
export function trainLoop(o: TrainLoopOptions): TrainLoopResult {
  const vars = o.net.variables();
  const optimizer = tf.train.adam(o.learningRate);
  const rng = seededRandom(o.seed);
  const history: EpochLog[] = [];
  const batches = Math.max(1, Math.ceil(o.train.count / o.batchSize));
  const totalSteps = o.epochs * batches;
  let best: { loss: number; epoch: number; weights: Float32Array[]; logits: Float32Array } = { loss: Infinity, epoch: 0, weights: [], logits: new Float32Array(0) };
  let stoppedEarly = false;
  let step = 0;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const started = performance.now();
      const order = shuffledIndices(o.train.count, rng);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        const idx = order.subarray(b * o.batchSize, Math.min(o.train.count, (b + 1) * o.batchSize));
        if (idx.length === 0) continue;
        (optimizer as unknown as { learningRate: number }).learningRate = o.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps));
        step++;
        const stepSeed = (o.seed * 7919 + epoch * 104729 + b * 31) >>> 0;
        const { loss, hits } = tf.tidy(() => {
          const x = o.train.batch(idx, o.augment ? { seed: stepSeed } : undefined);
          const y = tf.oneHot(tf.tensor1d(Array.from(idx, (i) => o.train.labels[i] as number), 'int32'), o.numClasses);
          let hitsT: tf.Scalar | undefined;
          const value = optimizer.minimize(
            () => {
              const logits = o.net.logits(x, true, stepSeed);
              hitsT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'int32')) as tf.Scalar);
              let l = tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
              if (o.weightDecay) for (const v of o.weightDecay.variables) l = tf.add(l, tf.mul(o.weightDecay.rate, tf.sum(tf.square(v)))) as tf.Scalar;
              return l;
            },
            true,
            vars,
          ) as tf.Scalar;
          const out = { loss: value.dataSync()[0] as number, hits: (hitsT as tf.Scalar).dataSync()[0] as number };
          (hitsT as tf.Scalar).dispose();
          return out;
        });
        lossSum += loss * idx.length;
        correct += hits;
        seen += idx.length;
        o.onBatch?.({ epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen });
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const val = evaluateLogits(o.net, o.validation, o.numClasses);
      const log: EpochLog = {
        epoch,
        epochs: o.epochs,
        loss: lossSum / Math.max(1, seen),
        accuracy: correct / Math.max(1, seen),
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        imagesPerSecond: seen / trainSeconds,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      o.onEpoch?.(log);
      if (val.loss < best.loss) {
        best = { loss: val.loss, epoch, weights: vars.map((v) => v.dataSync().slice() as Float32Array), logits: val.logits };
      } else if (o.patience > 0 && epoch - best.epoch >= o.patience) {
        stoppedEarly = epoch < o.epochs;
        break;
      }
    }
    assignAll(vars, best.weights);
    return { history, bestEpoch: best.epoch, stoppedEarly, validationLogits: best.logits };
  } finally {
    optimizer.dispose();
  }
}

/** Inference-mode logits, mean cross-entropy and accuracy over every example of `source`, in chunks of 64. */
export function evaluateLogits(net: LogitNet, source: ExampleSource, numClasses: number): { loss: number; accuracy: number; logits: Float32Array } {
  const logits = new Float32Array(source.count * numClasses);
  for (let start = 0; start < source.count; start += 64) {
    const idx = Int32Array.from({ length: Math.min(64, source.count - start) }, (_, i) => start + i);
    tf.tidy(() => logits.set(net.logits(source.batch(idx, undefined), false, 0).dataSync() as Float32Array, start * numClasses));
  }
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < source.count; i++) {
    const row = logits.subarray(i * numClasses, (i + 1) * numClasses);
    let max = -Infinity;
    let arg = 0;
    row.forEach((v, c) => {
      if (v > max) {
        max = v;
        arg = c;
      }
    });
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    loss += Math.log(sum) + max - (row[source.labels[i] as number] as number);
    if (arg === source.labels[i]) correct++;
  }
  return { loss: loss / Math.max(1, source.count), accuracy: correct / Math.max(1, source.count), logits };
}

import * as tf from '@tensorflow/tfjs';
import type { FitResult } from '../../../src/ml/fit/fit.js';
import type { EpochLog, FitOptions, LabeledImages } from '../../../src/ml/fit/types.js';
import { createModel } from '../../../src/ml/model-factory.js';
import { seededRandom } from '../../../src/shared/random.js';

/** Copies the images at `indices` into one [n, S, S, 3] float tensor in [0, 1], mirroring those picked by `flip`. */
function batchTensor(data: LabeledImages, indices: readonly number[], flip: (i: number) => boolean): tf.Tensor4D {
  const s = data.imageSize;
  const frame = s * s * 3;
  const out = new Float32Array(indices.length * frame);
  indices.forEach((src, j) => {
    const base = src * frame;
    const mirrored = flip(j);
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const from = base + (y * s + (mirrored ? s - 1 - x : x)) * 3;
        const to = j * frame + (y * s + x) * 3;
        out[to] = (data.pixels[from] as number) / 255;
        out[to + 1] = (data.pixels[from + 1] as number) / 255;
        out[to + 2] = (data.pixels[from + 2] as number) / 255;
      }
    }
  });
  return tf.tensor4d(out, [indices.length, s, s, 3]);
}

function evaluateSplit(model: tf.LayersModel, data: LabeledImages, numClasses: number, batchSize: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, i) => start + i);
    const [l, c] = tf.tidy(() => {
      const x = batchTensor(data, idx, () => false);
      const y = tf.oneHot(tf.tensor1d(idx.map((i) => data.labels[i] as number), 'int32'), numClasses);
      const p = model.predict(x) as tf.Tensor2D;
      const lossSum = tf.losses.softmaxCrossEntropy(y, tf.log(tf.clipByValue(p, 1e-7, 1)), undefined, 0, tf.Reduction.SUM);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32'));
      return [lossSum.dataSync()[0] as number, hits.dataSync()[0] as number];
    });
    loss += l;
    correct += c;
  }
  return { loss: loss / data.count, accuracy: correct / data.count };
}

/**
 * A plain TF.js training loop (trainOnBatch, Adam, per-image horizontal flips, early stopping on
 * validation loss with best weights restored). It runs on any backend that has the gradients,
 * i.e. the CPU backend in tests; src/ml/fit's `fit` is the fast path with Kennel's kernels.
 * Test code: `kennel train` always runs `fit`.
 */
export async function fitWithLayers(req: FitOptions, options: { createModel?: (spec: FitOptions['spec']) => tf.LayersModel } = {}): Promise<FitResult> {
  const model = (options.createModel ?? createModel)(req.spec);
  model.compile({ optimizer: tf.train.adam(req.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const rand = seededRandom(req.seed);
  const history: EpochLog[] = [];
  let best = { epoch: 0, valLoss: Infinity, weights: undefined as tf.Tensor[] | undefined };
  let stoppedEarly = false;
  const n = req.train.count;
  for (let epoch = 1; epoch <= req.epochs; epoch++) {
    const started = performance.now();
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    let lossSum = 0;
    let accSum = 0;
    for (let start = 0; start < n; start += req.batchSize) {
      const idx = order.slice(start, start + req.batchSize);
      const flips = idx.map(() => req.augmentation.horizontalFlip && rand() < 0.5);
      const x = batchTensor(req.train, idx, (j) => flips[j] === true);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(idx.map((i) => req.train.labels[i] as number), 'int32'), req.spec.numClasses));
      const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      lossSum += (loss ?? NaN) * idx.length;
      accSum += (acc ?? 0) * idx.length;
    }
    const seconds = (performance.now() - started) / 1000;
    const val = evaluateSplit(model, req.validation, req.spec.numClasses, req.batchSize);
    const log: EpochLog = {
      epoch,
      epochs: req.epochs,
      loss: lossSum / n,
      accuracy: accSum / n,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      imagesPerSecond: n / seconds,
      seconds,
    };
    history.push(log);
    req.onEpoch?.(log);
    if (!Number.isFinite(log.loss)) break;
    const monitored = val.loss;
    if (monitored < best.valLoss) {
      best.weights?.forEach((t) => t.dispose());
      best = { epoch, valLoss: monitored, weights: model.getWeights().map((w) => w.clone()) };
    } else if (epoch - best.epoch >= req.earlyStopping.patience) {
      stoppedEarly = true;
      break;
    }
  }
  if (best.weights) {
    model.setWeights(best.weights);
    best.weights.forEach((t) => t.dispose());
  }
  return { model, history, bestEpoch: best.epoch || history.length, stoppedEarly, backend: tf.getBackend(), replicas: 1 };
}

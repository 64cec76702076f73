import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendPreference } from '../backend/select.js';
import { createModel, type ModelSpec } from '../model-factory.js';
import { imagesToTensor } from '../preprocess.js';
import type { EvalResult, StepResult } from './replica-host.js';
import { applyMovingStats, trainForward, type MovingStatsUpdate } from './train-forward.js';

export interface ReplicaInit {
  spec: ModelSpec;
  learningRate: number;
  backend: BackendPreference;
}

/**
 * One model replica with its own Adam state: computes gradients on a batch, applies (averaged)
 * gradients, evaluates. Replicas that start from the same seed and apply the same gradients hold
 * the same trainable weights; data-parallel training runs one per worker thread.
 */
export class Replica {
  private pending: MovingStatsUpdate[] = [];

  private constructor(
    readonly model: tf.LayersModel,
    private readonly optimizer: tf.Optimizer,
    readonly backend: string,
    private readonly imageSize: number,
    private readonly numClasses: number,
  ) {}

  static async create(init: ReplicaInit): Promise<Replica> {
    const chosen = await selectBackend({ preference: init.backend });
    const model = createModel(init.spec);
    return new Replica(model, tf.train.adam(init.learningRate), chosen.name, init.spec.imageSize, init.spec.numClasses);
  }

  private variables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** Forward + backward on `count` images; the batch-norm statistics are applied with the next `apply`. */
  step(pixels: Uint8Array, labels: ArrayLike<number>, count: number, seed: number): StepResult {
    const vars = this.variables();
    let updates: MovingStatsUpdate[] = [];
    let correct = 0;
    let loss = 0;
    let flat: Float32Array = new Float32Array(0);
    // Results leave the tidy through closure variables: tidy walks whatever it returns, and
    // walking a gradient-sized typed array element by element cost a quarter of a step.
    tf.tidy(() => {
      const x = imagesToTensor(pixels, count, this.imageSize);
      const y = tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), this.numClasses);
      const { value, grads } = tf.variableGrads(() => {
        const out = trainForward(this.model, x, seed);
        updates = out.updates;
        const loss = out.logits ? tf.losses.softmaxCrossEntropy(y, out.output) : tf.losses.logLoss(y, out.output);
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(out.output, 1), tf.argMax(y, 1)), 'int32'));
        correct = hits.dataSync()[0] as number;
        return loss as tf.Scalar;
      }, vars);
      flat = flatten(vars.map((v) => grads[v.name] as tf.Tensor));
      loss = value.dataSync()[0] as number;
    });
    this.pending = updates;
    return { loss, correct, count, grads: flat };
  }

  /** Applies gradients (as produced by `step`, possibly averaged) with Adam at `learningRate` (default: unchanged), then the pending BN statistics. */
  apply(flat: Float32Array, learningRate?: number): void {
    // Adam reads its learning rate at every update; setting it here carries the schedule.
    if (learningRate !== undefined) (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
    const vars = this.variables();
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      for (const v of vars) {
        named[v.name] = tf.tensor(flat.subarray(offset, offset + v.size), v.shape, 'float32');
        offset += v.size;
      }
      this.optimizer.applyGradients(named);
    });
    applyMovingStats(this.pending);
    this.pending = [];
  }

  /** Inference-mode loss (summed cross-entropy) and hits over `count` images, in chunks of 64. */
  evaluate(pixels: Uint8Array, labels: ArrayLike<number>, count: number): EvalResult {
    const img = this.imageSize * this.imageSize * 3;
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < count; start += 64) {
      const n = Math.min(64, count - start);
      let probs: Float32Array = new Float32Array(0);
      tf.tidy(() => {
        probs = (this.model.predict(imagesToTensor(pixels.subarray(start * img, (start + n) * img), n, this.imageSize)) as tf.Tensor).dataSync() as Float32Array;
      });
      for (let i = 0; i < n; i++) {
        const label = labels[start + i] as number;
        let best = 0;
        for (let c = 1; c < this.numClasses; c++) if ((probs[i * this.numClasses + c] as number) > (probs[i * this.numClasses + best] as number)) best = c;
        if (best === label) correct++;
        lossSum -= Math.log(Math.max(1e-7, probs[i * this.numClasses + label] as number));
      }
    }
    return { lossSum, correct, count };
  }

  /** All weights (trainable and batch-norm statistics) in `model.weights` order. */
  getWeights(): Float32Array[] {
    return this.model.getWeights().map((t) => t.dataSync() as Float32Array);
  }

  setWeights(weights: Float32Array[]): void {
    const tensors = this.model.weights.map((w, i) => tf.tensor(weights[i] as Float32Array, w.shape as number[], 'float32'));
    this.model.setWeights(tensors);
    tensors.forEach((t) => t.dispose());
  }

  /** Indices (in `model.weights`) of the non-trainable weights, e.g. batch-norm moving statistics. */
  nonTrainableIndices(): number[] {
    return this.model.weights.flatMap((w, i) => (w.trainable ? [] : [i]));
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}

function flatten(tensors: tf.Tensor[]): Float32Array {
  const total = tensors.reduce((s, t) => s + t.size, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, offset);
    offset += t.size;
  }
  return out;
}

import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendPreference } from '../backend/select.js';
import type { FoldedNode } from '../backbone/fold.js';
import type { EvalResult, ReplicaState, StepRequest, StepResult } from '../fit/replica-host.js';
import { GraphNet } from './graph-net.js';
import { Head, topHeadNet, viewSource, shiftMap } from './nets.js';
import { assignAll } from './assign.js';

/**
 * A replica for fine-tuning the top blocks of a backbone with its head, on cached boundary maps:
 * every view (e.g. photo and mirror image) of the training maps and the validation maps arrive in
 * shared memory; a step takes each example from a random view, shifts it by up to `shift` cells,
 * and computes the gradients of the top blocks and the head.
 */
export interface FeatureReplicaInit {
  backend: BackendPreference;
  learningRate: number;
  top: { nodes: FoldedNode[]; input: string; output: string };
  head: { kernel: Float32Array; bias: Float32Array; dropout: number; classes: number };
  /** [h, w, c] of one map. */
  shape: [number, number, number];
  trainViews: Float32Array[];
  trainLabels: Int32Array;
  valMaps: Float32Array;
  valLabels: Int32Array;
  /** Random shift in cells (0: none). */
  shift: number;
}

export async function createReplicaState(init: FeatureReplicaInit): Promise<ReplicaState> {
  const chosen = await selectBackend({ preference: init.backend });
  const top = new GraphNet(init.top.nodes, init.top.input, init.top.output, { trainable: true });
  const features = init.head.kernel.length / init.head.classes;
  const head = new Head(features, init.head.classes, init.head.dropout, 0);
  assignAll([head.kernel, head.bias], [init.head.kernel, init.head.bias]);
  const net = topHeadNet(top, head);
  const vars = net.variables();
  const optimizer: tf.Optimizer = tf.train.adam(init.learningRate);
  const [h, w, c] = init.shape;
  const train = viewSource({ views: init.trainViews, count: init.trainLabels.length, rowShape: init.shape, labels: init.trainLabels, ...(init.shift > 0 ? { transform: shiftMap(h, w, c, init.shift) } : {}) });
  const val = viewSource({ views: [init.valMaps], count: init.valLabels.length, rowShape: init.shape, labels: init.valLabels });
  const classes = init.head.classes;

  const apply = (flat: Float32Array, learningRate?: number): void => {
    if (learningRate !== undefined) (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      for (const v of vars) {
        named[v.name] = tf.tensor(flat.subarray(offset, offset + v.size), v.shape, 'float32');
        offset += v.size;
      }
      optimizer.applyGradients(named);
    });
  };

  return {
    backend: chosen.name,
    trainable: vars.map(() => true),
    step(req: StepRequest): StepResult {
      if (req.apply) apply(req.apply, req.learningRate);
      let loss = 0;
      let correct = 0;
      let grads = new Float32Array(0);
      tf.tidy(() => {
        const x = train.batch(req.indices, { seed: req.seed });
        const y = tf.oneHot(tf.tensor1d(Array.from(req.indices, (i) => init.trainLabels[i] as number), 'int32'), classes);
        const { value, grads: g } = tf.variableGrads(() => {
          const logits = net.logits(x, true, req.seed);
          correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'int32')).dataSync()[0] as number;
          return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
        }, vars);
        loss = value.dataSync()[0] as number;
        const total = vars.reduce((s, v) => s + v.size, 0);
        grads = new Float32Array(total);
        let offset = 0;
        for (const v of vars) {
          grads.set((g[v.name] as tf.Tensor).dataSync() as Float32Array, offset);
          offset += v.size;
        }
      });
      return { loss, correct, count: req.indices.length, grads };
    },
    apply,
    evaluate(start: number, end: number): EvalResult {
      let lossSum = 0;
      let correct = 0;
      for (let s = start; s < end; s += 64) {
        const idx = Int32Array.from({ length: Math.min(64, end - s) }, (_, i) => s + i);
        const logits = tf.tidy(() => net.logits(val.batch(idx, undefined), false, 0).dataSync() as Float32Array);
        idx.forEach((src, j) => {
          const row = logits.subarray(j * classes, (j + 1) * classes);
          let max = -Infinity;
          let arg = 0;
          row.forEach((v, k) => {
            if (v > max) {
              max = v;
              arg = k;
            }
          });
          let sum = 0;
          for (const v of row) sum += Math.exp(v - max);
          const label = init.valLabels[src] as number;
          lossSum += Math.log(sum) + max - (row[label] as number);
          if (arg === label) correct++;
        });
      }
      return { lossSum, correct, count: end - start };
    },
    getWeights: () => vars.map((v) => v.dataSync().slice() as Float32Array),
    setWeights(weights: Float32Array[]) {
      assignAll(vars, weights);
    },
    dispose() {
      optimizer.dispose();
      top.dispose();
      head.dispose();
    },
  };
}

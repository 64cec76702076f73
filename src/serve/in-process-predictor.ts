import * as tf from '@tensorflow/tfjs';
import { compileInference } from '../ml/inference-forward.js';
import { imagesToTensor } from '../ml/preprocess.js';
import type { Predictor, PredictorStats } from './predictor.js';

export interface InProcessPredictorOptions {
  /** A loaded model: input [N, size, size, 3] float32 in [0, 1], output softmax [N, numClasses]. */
  readonly model: tf.LayersModel;
  readonly size: number;
  readonly numClasses: number;
}

/**
 * Runs the model on this thread's TF.js backend. Every tensor a prediction creates is disposed
 * before the promise settles, so `tf.memory().numTensors` does not grow with traffic.
 * The worker pool uses this same code inside each worker thread.
 */
export function createInProcessPredictor(options: InProcessPredictorOptions): Predictor {
  const { model, size, numClasses } = options;
  // Each layer as one fused op: a convolution with its bias and ReLU/ReLU6 in one pass
  // (TF.js layers runs ReLU6 as two more passes over the activations).
  const run = compileInference(model);
  let closed = false;
  return {
    size,
    numClasses,
    async predict(pixels: Uint8Array, n: number): Promise<Float32Array> {
      if (closed) throw new Error('predictor is closed');
      if (model.outputs.length !== 1) throw new Error('model has several outputs; a classifier has one');
      // Not `model.predict`: it slices its input into batches, a full copy of the batch on the
      // wasm backend (~0.7 ms an image at 128 px) for nothing.
      const y = tf.tidy(() => run(imagesToTensor(pixels, n, size)));
      try {
        if (y.shape.length !== 2 || y.shape[0] !== n || y.shape[1] !== numClasses) {
          throw new Error(`model output shape [${y.shape.join(', ')}] is not [${n}, ${numClasses}]`);
        }
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    async stats(): Promise<PredictorStats> {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes, backend: tf.getBackend() };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      model.dispose();
    },
  };
}

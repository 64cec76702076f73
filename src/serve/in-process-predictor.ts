import * as tf from '@tensorflow/tfjs';
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
  let closed = false;
  return {
    size,
    numClasses,
    async predict(pixels: Uint8Array, n: number): Promise<Float32Array> {
      if (closed) throw new Error('predictor is closed');
      const y = tf.tidy(() => {
        // `apply`, not `predict`: predict slices its input into batches, a full copy of the
        // batch on the wasm backend (~0.7 ms an image at 128 px) for nothing.
        const out = model.apply(imagesToTensor(pixels, n, size), { training: false });
        if (Array.isArray(out)) throw new Error('model has several outputs; a classifier has one');
        return out as tf.Tensor;
      });
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

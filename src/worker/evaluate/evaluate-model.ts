import * as tf from '@tensorflow/tfjs';
import type { MetricsSummary } from '../../shared/api/worker-report.js';
import type { Storage } from '../../shared/storage/index.js';
import { loadArtifact } from '../../ml/artifact.js';
import type { ModelMetadata } from '../../ml/metadata.js';
import { compileInference } from '../../ml/inference-forward.js';
import { imagesToTensor } from '../../ml/preprocess.js';
import type { LabeledImages } from '../../ml/fit/types.js';
import { computeMetrics } from './metrics.js';

/**
 * Images per batch when the caller names none. The largest activation of a batch sets how far the
 * wasm backend's heap grows, and that heap never shrinks: at 160 px MobileNetV2's expanded maps
 * are ~2.5 MB an image, and a batch of 64 grew the heap of `kennel train`'s final evaluation by
 * ~800 MB (peak RSS 1.8–2.3 GiB); 16 costs a quarter of that and runs as fast per image.
 */
export const DEFAULT_PREDICTION_BATCH = 16;

/**
 * Softmax outputs of `model` for every image of `data`, row-major [count × classes], computed in
 * batches so that only one batch of float input is in memory, each layer as one fused op
 * (compileInference). Disposes every tensor it makes.
 */
export async function predictProbabilities(model: tf.LayersModel, data: Pick<LabeledImages, 'pixels' | 'count' | 'imageSize'>, batchSize = DEFAULT_PREDICTION_BATCH): Promise<Float32Array> {
  const frame = data.imageSize * data.imageSize * 3;
  const run = compileInference(model);
  let out: Float32Array | undefined;
  let classes = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const probs = tf.tidy(() => {
      const x = imagesToTensor(data.pixels.subarray(start * frame, (start + n) * frame), n, data.imageSize);
      return run(x) as tf.Tensor2D;
    });
    const values = (await probs.data()) as Float32Array;
    classes = probs.shape[1];
    probs.dispose();
    out ??= new Float32Array(data.count * classes);
    out.set(values, start * classes);
  }
  return out ?? new Float32Array(0);
}

/**
 * The evaluation both `kennel evaluate` and the end of `kennel train` run: reload the artifact
 * at `modelUri` from storage (verifying its sha256; never an in-memory model), predict `data`
 * (decoded with the artifact's own preprocessing, labels in its class order) and summarise;
 * the softmax outputs come back too (row-major [count × classes]), for per-image predictions.
 */
export async function evaluateArtifact(options: {
  modelUri: string;
  storage: Storage;
  data: LabeledImages;
  batchSize?: number;
}): Promise<{ metrics: MetricsSummary; metadata: ModelMetadata; probabilities: Float32Array }> {
  const { model, metadata } = await loadArtifact(options.modelUri, options.storage);
  try {
    if (options.data.imageSize !== metadata.preprocessing.size) {
      throw new RangeError(`images are ${options.data.imageSize}px but the model expects ${metadata.preprocessing.size}px`);
    }
    const probabilities = await predictProbabilities(model, options.data, options.batchSize);
    return { metrics: computeMetrics(options.data.labels, probabilities, metadata.classes), metadata, probabilities };
  } finally {
    model.dispose();
  }
}

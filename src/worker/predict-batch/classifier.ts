import type * as tf from '@tensorflow/tfjs';
import { ArtifactError, loadArtifact } from '../../ml/artifact.js';
import type { ResizeMode } from '../../ml/image.js';
import type { Storage } from '../../shared/storage/index.js';
import { predictProbabilities } from '../evaluate/evaluate-model.js';

/** A loaded model artifact, ready to classify decoded images. */
export interface BatchClassifier {
  /** Class names in output order. */
  readonly classes: readonly string[];
  /** How photos are decoded for it (the artifact's own preprocessing). */
  readonly size: number;
  readonly resize: ResizeMode;
  readonly sha256: string;
  /** Softmax outputs of `count` decoded images (HWC bytes back to back), row-major [count × classes]. */
  predict(pixels: Uint8Array, count: number): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Loads the artifact at `uri` through src/ml/artifact.ts (the weights' sha256 must match the
 * artifact's metadata.json) and, when the registry recorded a digest, checks metadata.json
 * against it too, so a batch never runs a model other than the ModelVersion it names.
 */
export async function loadClassifier(uri: string, storage: Storage, expectedSha256?: string): Promise<BatchClassifier> {
  const { model, metadata } = await loadArtifact(uri, storage);
  if (expectedSha256 !== undefined && metadata.sha256 !== expectedSha256) {
    model.dispose();
    throw new ArtifactError('digest-mismatch', uri, `the artifact at ${uri} has weights sha256 ${metadata.sha256}, but the ModelVersion records ${expectedSha256}: it was replaced after registration`);
  }
  const size = metadata.preprocessing.size;
  return {
    classes: metadata.classes,
    size,
    resize: metadata.preprocessing.resize,
    sha256: metadata.sha256,
    predict: (pixels, count) => predictProbabilities(model as tf.LayersModel, { pixels, count, imageSize: size }, Math.max(1, count)),
    dispose: () => model.dispose(),
  };
}

import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architectures.js';

/**
 * The architectures `createModel` builds from scratch (the pretrained ones are built by
 * src/ml/transfer from their backbone's weights):
 * - `simple-cnn`: the baseline of the usual cats-vs-dogs pipelines — four blocks of
 *   conv3×3 (32, 64, 128, 256 filters) + batch norm + ReLU + 2×2 max-pool, global average
 *   pooling, dense 128 + ReLU, dropout 0.5, softmax. Kept for comparison.
 * - `compact-cnn`: the same block structure with half the width (16, 32, 64, 128) plus a fifth
 *   block of 256, about a quarter of SimpleCNN's compute per image, chosen for accuracy per unit
 *   of training time on two CPU cores (see bench/train-speed/README.md).
 */
export const SCRATCH_ARCHITECTURES = ['simple-cnn', 'compact-cnn'] as const satisfies readonly Architecture[];
export type ScratchArchitecture = (typeof SCRATCH_ARCHITECTURES)[number];

export interface ModelSpec {
  architecture: Architecture;
  /** Input is [size, size, 3], RGB scaled to [0, 1]. */
  imageSize: number;
  numClasses: number;
  /** Dropout rate before the classifier; default 0.5 (from scratch), 0.2 (pretrained head). */
  dropout?: number;
  /** Seed for weight initialisation and dropout. */
  seed?: number;
}

export function isScratchArchitecture(value: string): value is ScratchArchitecture {
  return (SCRATCH_ARCHITECTURES as readonly string[]).includes(value);
}

const BLOCK_FILTERS: Record<ScratchArchitecture, readonly number[]> = {
  'simple-cnn': [32, 64, 128, 256],
  'compact-cnn': [16, 32, 64, 128, 256],
};
const DENSE_UNITS: Record<ScratchArchitecture, number> = { 'simple-cnn': 128, 'compact-cnn': 128 };


/**
 * Builds an uncompiled model: input [N, imageSize, imageSize, 3] float32 in [0, 1], output
 * [N, numClasses] softmax probabilities. Pure: no I/O, deterministic weights for a given seed.
 */
export function createModel(spec: ModelSpec): tf.LayersModel {
  if (!isScratchArchitecture(spec.architecture)) {
    throw new RangeError(`createModel builds ${SCRATCH_ARCHITECTURES.join(', ')} from scratch, not "${String(spec.architecture)}" (pretrained architectures are built by src/ml/transfer)`);
  }
  const filters = BLOCK_FILTERS[spec.architecture];
  const minSize = 2 ** filters.length;
  if (!Number.isInteger(spec.imageSize) || spec.imageSize < minSize) {
    throw new RangeError(`imageSize must be an integer of at least ${minSize} for ${spec.architecture}, got ${spec.imageSize}`);
  }
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2) {
    throw new RangeError(`numClasses must be an integer of at least 2, got ${spec.numClasses}`);
  }
  const dropout = spec.dropout ?? 0.5;
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${dropout}`);
  let seed = spec.seed ?? 42;
  const nextSeed = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);

  const model = tf.sequential({ name: spec.architecture.replace(/-/g, '_') });
  filters.forEach((f, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [spec.imageSize, spec.imageSize, 3] } : {}),
        filters: f,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: nextSeed() }),
      }),
    );
    // Momentum 0.9 (PyTorch's default 0.1): TF.js's 0.99 leaves the moving statistics far from
    // the weights' for the first few hundred steps, so short runs evaluate badly.
    model.add(tf.layers.batchNormalization({ axis: -1, momentum: 0.9 }));
    model.add(tf.layers.reLU());
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  });
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(
    tf.layers.dense({ units: DENSE_UNITS[spec.architecture], activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: nextSeed() }) }),
  );
  if (dropout > 0) model.add(tf.layers.dropout({ rate: dropout, seed: nextSeed() }));
  model.add(
    tf.layers.dense({ units: spec.numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) }),
  );
  return model;
}

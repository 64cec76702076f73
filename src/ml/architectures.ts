import type { Augmentation } from './fit/types.js';

/**
 * Every architecture `kennel train` can train, the default first:
 * - `mobilenet-v2`: MobileNetV2 pretrained on millions of images (the weights ship inside the
 *   `nsfwjs` npm package), its top blocks fine-tuned with a new head: the default for photos.
 * - `compact-cnn`, `simple-cnn`: convolutional networks trained from scratch (src/ml/model-factory.ts),
 *   for comparison and for images unlike photos.
 */
export const ARCHITECTURES = ['mobilenet-v2', 'compact-cnn', 'simple-cnn'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const PRETRAINED_ARCHITECTURES = ['mobilenet-v2'] as const satisfies readonly Architecture[];
export type PretrainedArchitecture = (typeof PRETRAINED_ARCHITECTURES)[number];

export const DEFAULT_ARCHITECTURE: Architecture = 'mobilenet-v2';

export function isArchitecture(value: string): value is Architecture {
  return (ARCHITECTURES as readonly string[]).includes(value);
}

export function isPretrainedArchitecture(value: string): value is PretrainedArchitecture {
  return (PRETRAINED_ARCHITECTURES as readonly string[]).includes(value);
}

/** A training recipe's defaults; measured in bench/train/README.md. */
export interface Hyperparameters {
  readonly imageSize: number;
  /** From scratch: epochs of training; pretrained: epochs of fine-tuning after the head is trained. */
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak rate; decayed along a cosine to 0 over the epochs. */
  readonly learningRate: number;
  readonly augmentation: Augmentation;
  readonly earlyStopping: { readonly patience: number };
}

const DEFAULTS: Readonly<Record<Architecture, Hyperparameters>> = Object.freeze({
  'mobilenet-v2': Object.freeze({
    imageSize: 160,
    epochs: 7,
    batchSize: 32,
    learningRate: 3e-4,
    // Flips and shifts happen on the cached feature maps (mirror-image maps, ±1 cell); brightness does not apply.
    augmentation: Object.freeze({ horizontalFlip: true, randomCrop: true, brightness: 0 }),
    earlyStopping: Object.freeze({ patience: 2 }),
  }),
  'compact-cnn': Object.freeze({
    imageSize: 112,
    epochs: 16,
    batchSize: 32,
    learningRate: 0.003,
    augmentation: Object.freeze({ horizontalFlip: true, randomCrop: true, brightness: 0.1 }),
    earlyStopping: Object.freeze({ patience: 6 }),
  }),
  'simple-cnn': Object.freeze({
    imageSize: 112,
    epochs: 16,
    batchSize: 32,
    learningRate: 0.003,
    augmentation: Object.freeze({ horizontalFlip: true, randomCrop: true, brightness: 0.1 }),
    earlyStopping: Object.freeze({ patience: 6 }),
  }),
});

export function defaultHyperparameters(architecture: Architecture): Hyperparameters {
  return DEFAULTS[architecture];
}

/**
 * Input sizes an architecture accepts: at least `min`, a multiple of `multiple` (MobileNetV2
 * halves the image five times; the from-scratch networks pool 2×2 per block).
 */
export function imageSizeRule(architecture: Architecture): { readonly min: number; readonly multiple: number } {
  switch (architecture) {
    case 'mobilenet-v2':
      return { min: 32, multiple: 32 };
    case 'compact-cnn':
      return { min: 32, multiple: 1 };
    case 'simple-cnn':
      return { min: 16, multiple: 1 };
  }
}

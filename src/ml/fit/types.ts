import type { BackendPreference } from '../backend/select.js';
import type { ModelSpec } from '../model-factory.js';

/**
 * Decoded images with their class indices, in one contiguous buffer, as training and evaluation
 * take them: `count` RGB images of imageSize², HWC bytes back to back (bytes, not floats: a
 * quarter of the memory); `labels[i]` is the class index of image i.
 */
export interface LabeledImages {
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
  imageSize: number;
  /** sha256 of each image's file (hex), when known: the key of the pretrained recipe's feature cache. */
  keys?: readonly string[];
}

export interface Augmentation {
  /** Mirror left-right with probability 1/2. */
  horizontalFlip: boolean;
  /** Shift by up to 1/8 of the side in each direction (edges repeated): a random crop. */
  randomCrop?: boolean;
  /** Multiply intensities by a factor in [1 − b, 1 + b]; 0 or absent disables. */
  brightness?: number;
}

export interface EpochLog {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Training images per second over the epoch's training steps. */
  imagesPerSecond: number;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  /** Pretrained recipe only: training the head on frozen features, or fine-tuning the top blocks with it. */
  phase?: 'head' | 'fine-tune';
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
}

export interface FitOptions {
  spec: ModelSpec;
  train: LabeledImages;
  validation: LabeledImages;
  epochs: number;
  batchSize: number;
  /** Peak learning rate of Adam. */
  learningRate: number;
  /**
   * 'cosine' (default): the learning rate follows half a cosine from `learningRate` to 0 over
   * all the steps of `epochs`, which converges in fewer epochs than a constant rate;
   * 'constant': fixed.
   */
  learningRateSchedule?: 'cosine' | 'constant';
  augmentation: Augmentation;
  earlyStopping: { patience: number };
  seed: number;
  /** Data-parallel replicas in worker threads; default: one per core, at most 2. 0 trains in this thread. */
  workers?: number;
  /** Backend for the replicas (default 'auto'). */
  backend?: BackendPreference;
  onEpoch?(log: EpochLog): void;
  onBatch?(info: BatchInfo): void;
  /** A stage change worth telling a person ("computing features", "fine-tuning"). */
  onStage?(message: string): void;
  /** Progress of a long stage that is not an epoch (the pretrained recipe's feature extraction). */
  onProgress?(done: number, total: number): void;
}

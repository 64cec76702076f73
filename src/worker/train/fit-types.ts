import type * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../../ml/model-factory.js';
import type { BackendPreference } from '../../ml/backend/select.js';
import type { LabeledImages } from '../dataset/split-dataset.js';

/** One finished epoch, 1-based, as reported to the progress display and kept in the history. */
export interface EpochLog {
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
  readonly imagesPerSecond?: number;
  readonly seconds?: number;
}

export interface AugmentationOptions {
  readonly horizontalFlip: boolean;
  readonly randomCrop?: boolean;
  readonly brightness?: number;
}

/** What the training loop needs; the shape of src/ml/fit's `fit`. */
export interface FitRequest {
  readonly spec: ModelSpec;
  readonly train: LabeledImages;
  readonly validation?: LabeledImages;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly augmentation: AugmentationOptions;
  /** Stop when validation loss has not improved for `patience` epochs; best weights are kept. */
  readonly earlyStopping?: { readonly patience: number };
  readonly seed: number;
  /** Backend preference for the training replicas. */
  readonly backend?: BackendPreference;
  readonly onEpoch?: (log: EpochLog) => void;
  readonly onBatch?: (info: BatchProgress) => void;
}

/** Progress inside an epoch, after each training step. */
export interface BatchProgress {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly accuracy: number;
}

export interface FitResult {
  readonly model: tf.LayersModel;
  readonly history: readonly EpochLog[];
  /** 1-based epoch whose weights the model holds. */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly backend: string;
}

export type FitFunction = (request: FitRequest) => Promise<FitResult>;

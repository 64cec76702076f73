import type { Classifier } from './classifier.js';
import type { Predictor } from './predictor.js';

/** The served model's name and version: the `model` and `version` of every metric and log line. */
export interface ModelIdentity {
  readonly name: string;
  readonly version: string;
  /** Whether `version` is a real version (given, or read as one from the URI), not a folder's name. */
  readonly versionRecorded?: boolean;
}

/** A model that is loaded, warmed up and able to answer. */
export interface LoadedModel {
  readonly classes: readonly string[];
  /** Input side length in pixels. */
  readonly size: number;
  readonly backend: string;
  readonly classifier: Classifier;
  readonly predictor: Predictor;
  /** metadata.json of the artifact, as loaded (shown on the page and /api/model). */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** metrics.json of the artifact when present: the offline evaluation. */
  readonly evaluation?: Readonly<Record<string, unknown>>;
}

/** Mutable slot the lifecycle fills once the model is ready; routes read it per request. */
export interface ModelSlot {
  current: LoadedModel | undefined;
}

import type { ModelMetadata } from '../../../ml/metadata.js';
import { parseMetricsFile, type MetricsFileView } from '../compared-model.js';

/** metadata.json of a small two-class model; `hp` adds or overrides hyperparameters. */
export function metadataFixture(over: Partial<ModelMetadata> = {}, hp: ModelMetadata['hyperparameters'] = {}): ModelMetadata {
  return {
    schemaVersion: 1, format: 'tfjs-layers', classes: ['cat', 'dog'], inputShape: [32, 32, 3], preprocessing: { resize: 'cover', size: 32, scale: 1 / 255 },
    dataset: { uri: 'gs://b/data', digest: 'd'.repeat(64) }, architecture: 'simple-cnn', backend: 'cpu', codeVersion: '0.1.0',
    createdAt: '2026-01-01T00:00:00.000Z', sha256: 'a'.repeat(64), weightsBytes: 10,
    hyperparameters: { architecture: 'simple-cnn', epochs: 2, learningRate: 0.001, splitTrain: 0.8, splitValidation: 0.1, splitTest: 0.1, splitSeed: 0, ...hp },
    ...over,
  };
}

/** metrics.json as kennel train writes it, with two epochs of curves (a null validation loss in the second). */
export function metricsFixture(accuracy: number, cat: { precision: number; recall: number; f1: number }, over: Record<string, unknown> = {}): MetricsFileView {
  return parseMetricsFile({
    accuracy, precision: 0.8, recall: 0.8, f1: 0.8, rocAuc: 0.9, testImages: 20, meanConfidence: 0.7,
    perClass: { cat: { ...cat, support: 10 }, dog: { precision: 0.8, recall: 0.8, f1: 0.8, support: 10 } },
    confusionMatrix: [[8, 2], [2, 8]], confidenceHistogram: [0, 0, 0, 0, 0, 2, 4, 4, 5, 5],
    calibration: { expectedCalibrationError: 0.05 },
    training: { history: [{ loss: 0.9, accuracy: 0.6, valLoss: 1, valAccuracy: 0.55 }, { loss: 0.5, accuracy: 0.8, valLoss: null, valAccuracy: 0.75 }] },
    ...over,
  }, 'fixture');
}

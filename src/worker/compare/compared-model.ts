import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MetricsSummary, type DatasetSourceLineage } from '../../shared/api/worker-report.js';
import type { ModelMetadata } from '../../ml/metadata.js';

/** A hyperparameter's value as metadata.json or a TrainingRun spec records it. */
export type HyperparameterValue = string | number | boolean | null;

/** One epoch of a training curve (train and validation loss and accuracy). */
export interface CurvePoint {
  readonly loss?: number;
  readonly accuracy?: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
}

/** The registry entry a model came from, when it was compared as a ModelVersion. */
export interface ModelVersionInfo {
  readonly name: string;
  readonly namespace?: string;
  readonly model: string;
  readonly version: number;
  readonly phase?: string;
  readonly gatePassed?: boolean;
}

/** Where a model came from. Every field is optional: an imported artifact may record little. */
export interface Lineage {
  readonly datasetUri?: string;
  readonly datasetDigest?: string;
  readonly sources?: readonly DatasetSourceLineage[];
  /** "train,validation,test fractions / seed" of the content-hash split. */
  readonly split?: string;
  readonly trainingRun?: string;
  readonly codeVersion?: string;
  readonly backend?: string;
  readonly workerImage?: string;
  readonly createdAt?: string;
  readonly sha256?: string;
}

/**
 * One model as `kennel compare` sees it, whatever it was read from (an artifact's metadata.json
 * and metrics.json, or a ModelVersion and its artifact): its test-split metrics, how it was
 * trained, where it came from and, when the artifact records them, its training curves.
 */
export interface ComparedModel {
  /** Short column name: the ModelVersion's name, or the end of the artifact URI. */
  readonly label: string;
  /** The artifact URI. */
  readonly uri: string;
  readonly modelVersion?: ModelVersionInfo;
  readonly classes: readonly string[];
  readonly architecture?: string;
  readonly imageSize?: number;
  readonly metrics: MetricsSummary;
  readonly hyperparameters: Readonly<Record<string, HyperparameterValue>>;
  readonly lineage: Lineage;
  /** Epochs in training order (a pretrained model's head epochs, then its fine-tuning epochs). */
  readonly curves?: readonly CurvePoint[];
  /** Pretrained recipe: the epoch of `curves` (1-based) where fine-tuning starts; the ones before trained the head on frozen features. */
  readonly fineTuningFrom?: number;
  /** Why something is missing (an unreadable artifact, a file without curves). */
  readonly notes: readonly string[];
}

const Num = Type.Union([Type.Number(), Type.Null()]);
const EpochRecord = Type.Object({ loss: Type.Optional(Num), accuracy: Type.Optional(Num), valLoss: Type.Optional(Num), valAccuracy: Type.Optional(Num) });

/** The parts of metrics.json (written by `kennel train`) that a comparison reads. */
export const MetricsFileView = Type.Intersect([
  MetricsSummary,
  Type.Object({
    classes: Type.Optional(Type.Array(Type.String())),
    split: Type.Optional(Type.Object({ fractions: Type.Object({ train: Type.Number(), validation: Type.Number(), test: Type.Number() }), seed: Type.Number() })),
    training: Type.Optional(Type.Object({ history: Type.Array(EpochRecord), headHistory: Type.Optional(Type.Array(EpochRecord)) })),
    calibration: Type.Optional(Type.Object({ expectedCalibrationError: Type.Optional(Type.Number()) })),
    dataset: Type.Optional(Type.Object({ sources: Type.Optional(Type.Array(Type.Object({ uri: Type.String(), type: Type.String(), digest: Type.String(), images: Type.Number() }))) })),
  }),
]);
export type MetricsFileView = Static<typeof MetricsFileView>;

/** Validates parsed metrics.json; the error names the first offending fields. */
export function parseMetricsFile(json: unknown, source: string): MetricsFileView {
  if (Value.Check(MetricsFileView, json)) return json;
  const problems = [...Value.Errors(MetricsFileView, json)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
  throw new Error(`invalid ${source}: ${problems.join('; ')}`);
}

const num = (v: number | null | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The training curve recorded in metrics.json: head epochs (pretrained recipe) then `history`. */
export function curvesOf(file: MetricsFileView): CurvePoint[] | undefined {
  const t = file.training;
  if (!t || t.history.length === 0) return undefined;
  return [...(t.headHistory ?? []), ...t.history].map((h) => ({
    ...(num(h.loss) !== undefined ? { loss: num(h.loss) } : {}),
    ...(num(h.accuracy) !== undefined ? { accuracy: num(h.accuracy) } : {}),
    ...(num(h.valLoss) !== undefined ? { valLoss: num(h.valLoss) } : {}),
    ...(num(h.valAccuracy) !== undefined ? { valAccuracy: num(h.valAccuracy) } : {}),
  }));
}

/** Pretrained recipe: the epoch of curvesOf()'s curve where fine-tuning starts (after the head epochs), when there were both. */
export function fineTuningFromOf(file: MetricsFileView): number | undefined {
  const head = file.training?.headHistory?.length ?? 0;
  return head > 0 && (file.training?.history.length ?? 0) > 0 ? head + 1 : undefined;
}

/** The summary part of metrics.json, with the ECE taken from its calibration section when the summary lacks it. */
export function summaryOf(file: MetricsFileView): MetricsSummary {
  const { accuracy, precision, recall, f1, rocAuc, testImages, perClass, confusionMatrix, confidenceHistogram, meanConfidence } = file;
  const ece = file.expectedCalibrationError ?? file.calibration?.expectedCalibrationError;
  return {
    accuracy, precision, recall, f1, testImages, perClass, confusionMatrix, confidenceHistogram, meanConfidence,
    ...(rocAuc !== undefined ? { rocAuc } : {}),
    ...(ece !== undefined ? { expectedCalibrationError: ece } : {}),
  };
}

/** "0.8,0.1,0.1 seed 0" from the hyperparameters metadata.json records. */
export function splitOf(hp: Readonly<Record<string, HyperparameterValue>>): string | undefined {
  const { splitTrain: t, splitValidation: v, splitTest: s, splitSeed: seed } = hp;
  if (typeof t !== 'number' || typeof v !== 'number' || typeof s !== 'number') return undefined;
  return `${t},${v},${s} seed ${typeof seed === 'number' ? seed : 0}`;
}

/** A model read from an artifact: metadata.json (how it was trained) and metrics.json (its test-split evaluation). */
export function modelFromArtifact(uri: string, label: string, metadata: ModelMetadata, metrics: MetricsFileView): ComparedModel {
  const curves = curvesOf(metrics);
  const sources = metrics.dataset?.sources?.filter((s): s is DatasetSourceLineage => s.type === 'ClassFolders' || s.type === 'PredictionLog');
  return {
    label,
    uri,
    classes: metadata.classes,
    architecture: metadata.architecture,
    imageSize: metadata.preprocessing.size,
    metrics: summaryOf(metrics),
    hyperparameters: metadata.hyperparameters,
    lineage: {
      datasetUri: metadata.dataset.uri,
      datasetDigest: metadata.dataset.digest,
      ...(sources && sources.length > 1 ? { sources } : {}),
      ...(splitOf(metadata.hyperparameters) ? { split: splitOf(metadata.hyperparameters) } : {}),
      codeVersion: metadata.codeVersion,
      backend: metadata.backend,
      createdAt: metadata.createdAt,
      sha256: metadata.sha256,
    },
    ...(curves ? { curves } : {}),
    ...(fineTuningFromOf(metrics) !== undefined ? { fineTuningFrom: fineTuningFromOf(metrics) } : {}),
    notes: curves ? [] : [`${label}: metrics.json records no training curves`],
  };
}

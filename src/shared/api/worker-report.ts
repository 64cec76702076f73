import { Type, type Static } from '@sinclair/typebox';

/**
 * The contract between the training worker and the operator. The worker never talks to the
 * Kubernetes API: it reports through two channels a Job already has.
 *
 * 1. stdout, when it is not a terminal: one JSON object per line (pino). Lines whose `event` is
 *    `epoch` carry an {@link EpochProgress}; the operator reads them from the pod's log to show
 *    progress in TrainingRun status.
 * 2. The container's termination message (at most 4 KiB): one {@link WorkerOutcome} as JSON,
 *    written to `process.env.KENNEL_TERMINATION_LOG ?? '/dev/termination-log'` before exit. On
 *    failure `reason` is one of {@link WorkerFailureReasons}; on success it carries the artifact
 *    and a compact metrics summary (the full metrics stay in metrics.json beside the model).
 */

export const WorkerFailureReasons = [
  'DatasetNotFound',
  'InvalidDataset',
  'StorageAccessDenied',
  'StorageUnavailable',
  'InvalidArguments',
  'TrainingDiverged',
  'InternalError',
] as const;
export type WorkerFailureReason = (typeof WorkerFailureReasons)[number];

export const EpochProgress = Type.Object({
  event: Type.Literal('epoch'),
  epoch: Type.Integer({ minimum: 1 }),
  epochs: Type.Integer({ minimum: 1 }),
  loss: Type.Number(),
  accuracy: Type.Number(),
  valLoss: Type.Optional(Type.Number()),
  valAccuracy: Type.Optional(Type.Number()),
  imagesPerSecond: Type.Optional(Type.Number()),
});
export type EpochProgress = Static<typeof EpochProgress>;

/** Per-class figures on the test split. */
export const ClassMetrics = Type.Object(
  {
    precision: Type.Number({ description: 'Precision of this class on the test split.' }),
    recall: Type.Number({ description: 'Recall of this class on the test split.' }),
    f1: Type.Number({ description: 'F1 of this class on the test split.' }),
    support: Type.Integer({ minimum: 0, description: 'Test images of this class.' }),
  },
  { description: 'Figures of one class on the test split.' },
);
export type ClassMetrics = Static<typeof ClassMetrics>;

/** Metrics summary measured on the held-out test split by reloading the saved artifact. */
export const MetricsSummary = Type.Object(
  {
    accuracy: Type.Number({ description: 'Accuracy on the test split.' }),
    precision: Type.Number({ description: 'macro average' }),
    recall: Type.Number({ description: 'macro average' }),
    f1: Type.Number({ description: 'macro average' }),
    rocAuc: Type.Optional(Type.Number({ description: 'one-vs-rest macro average' })),
    testImages: Type.Integer({ minimum: 0, description: 'Images in the test split.' }),
    perClass: Type.Record(Type.String(), ClassMetrics, { description: 'Figures per class, keyed by class name.' }),
    /** confusionMatrix[actual][predicted], classes in `classes` order. */
    confusionMatrix: Type.Array(
      Type.Array(Type.Integer({ minimum: 0, description: 'Image count.' }), { description: 'One actual class: counts per predicted class.' }),
      { description: 'confusionMatrix[actual][predicted], classes in `classes` order.' },
    ),
    /** Histogram of the top-class confidence over 10 equal bins on [0,1]: the drift baseline. */
    confidenceHistogram: Type.Array(Type.Integer({ minimum: 0, description: 'Predictions in this bin.' }), {
      minItems: 10,
      maxItems: 10,
      description: 'Histogram of the top-class confidence over 10 equal bins on [0,1]: the drift baseline.',
    }),
    meanConfidence: Type.Number({ description: 'Mean top-class confidence on the test split: the drift baseline.' }),
    expectedCalibrationError: Type.Optional(
      Type.Number({
        description: 'Expected calibration error on the test split (15 equal confidence bins): how far confidence is from accuracy, 0 = calibrated.',
        minimum: 0,
        maximum: 1,
      }),
    ),
  },
  { description: 'Metrics measured on the held-out test split by reloading the saved artifact.' },
);
export type MetricsSummary = Static<typeof MetricsSummary>;

/** Kinds of dataset source (the TrainingRun's `dataset.sources[].type`). */
export const DatasetSourceTypes = ['ClassFolders', 'PredictionLog'] as const;
export type DatasetSourceType = (typeof DatasetSourceTypes)[number];

/** One source a model was trained on, as lineage records it. */
export const DatasetSourceLineage = Type.Object(
  {
    uri: Type.String({ description: 'The source\'s prefix: class folders, or a prediction log.' }),
    type: Type.Union(DatasetSourceTypes.map((t) => Type.Literal(t)), { description: 'ClassFolders or PredictionLog.' }),
    digest: Type.String({ description: 'Digest of the source\'s readable images and their labels (sha256 over sorted "class<TAB>sha256" lines).' }),
    images: Type.Integer({ minimum: 0, description: 'Readable images it contributed (before removing copies found in an earlier source).' }),
  },
  { description: 'One dataset source and its digest.' },
);
export type DatasetSourceLineage = Static<typeof DatasetSourceLineage>;

export const WorkerSuccess = Type.Object({
  outcome: Type.Literal('Succeeded'),
  /** Where the model lives: the prefix holding model.json, metadata.json, metrics.json, report/. */
  artifactUri: Type.String(),
  format: Type.Literal('tfjs-layers'),
  /** sha256 of the weights, as recorded in metadata.json. */
  sha256: Type.String({ pattern: '^[a-f0-9]{64}$' }),
  classes: Type.Array(Type.String(), { minItems: 2 }),
  inputShape: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 3, maxItems: 3 }),
  datasetUri: Type.String(),
  datasetDigest: Type.String(),
  /** Every source with its digest (absent from workers older than multi-source datasets). */
  datasetSources: Type.Optional(Type.Array(DatasetSourceLineage, { maxItems: 16 })),
  skippedFiles: Type.Integer({ minimum: 0 }),
  metrics: MetricsSummary,
  codeVersion: Type.String(),
  backend: Type.String(),
});
export type WorkerSuccess = Static<typeof WorkerSuccess>;

export const WorkerFailure = Type.Object({
  outcome: Type.Literal('Failed'),
  reason: Type.Union(WorkerFailureReasons.map((r) => Type.Literal(r))),
  message: Type.String(),
});
export type WorkerFailure = Static<typeof WorkerFailure>;

export const WorkerOutcome = Type.Union([WorkerSuccess, WorkerFailure]);
export type WorkerOutcome = Static<typeof WorkerOutcome>;

/** Kubernetes truncates termination messages at 4096 bytes. */
export const TERMINATION_MESSAGE_LIMIT = 4096;

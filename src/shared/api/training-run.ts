import { Type, type Static } from '@sinclair/typebox';
import {
  Conditions,
  DNS_LABEL_PATTERN,
  ResourceRequirements,
  Resource,
  StorageUri,
  StringEnum,
  type KubeSchemaOptions,
} from './common.js';
import { DatasetSourceTypes, type DatasetSourceType } from './worker-report.js';

/**
 * TrainingRun: "train this architecture on that dataset". The operator renders one Job per
 * (run, spec hash), follows it, and on success registers a ModelVersion. The spec is the user's;
 * the operator never writes it — everything it learns goes to status.
 */

export const TRAINING_RUN_KIND = 'TrainingRun';
export const TRAINING_RUN_PLURAL = 'trainingruns';

/**
 * Architectures the worker trains (src/ml/architectures.ts ARCHITECTURES, the default first; the
 * shared layer may not import ml, so the list and the image-size rules are repeated here and
 * checked against the worker's by a test).
 */
export const Architectures = ['mobilenet-v2', 'compact-cnn', 'simple-cnn'] as const;
export type Architecture = (typeof Architectures)[number];
export const DEFAULT_ARCHITECTURE: Architecture = 'mobilenet-v2';

/** The input sizes each architecture accepts: at least `min`, at most 512, a multiple of `multiple`. */
export const IMAGE_SIZE_RULES: Readonly<Record<Architecture, { readonly min: number; readonly multiple: number }>> = Object.freeze({
  'mobilenet-v2': { min: 32, multiple: 32 },
  'compact-cnn': { min: 32, multiple: 1 },
  'simple-cnn': { min: 16, multiple: 1 },
});
export const MAX_IMAGE_SIZE = 512;

/** What a person reads when `architecture` cannot take an image size (the CEL rule's message, and the parser's). */
export function imageSizeMessage(architecture: Architecture): string {
  const { min, multiple } = IMAGE_SIZE_RULES[architecture];
  return multiple > 1
    ? `hyperparameters.imageSize must be a multiple of ${multiple} between ${min} and ${MAX_IMAGE_SIZE} for ${architecture} (the network halves the image five times), e.g. 160 or 224`
    : `hyperparameters.imageSize must be between ${min} and ${MAX_IMAGE_SIZE} for ${architecture}`;
}

/** imageSizeMessage when `size` does not suit `architecture`, else undefined. */
export function imageSizeProblem(architecture: Architecture, size: number): string | undefined {
  const { min, multiple } = IMAGE_SIZE_RULES[architecture];
  return size < min || size > MAX_IMAGE_SIZE || size % multiple !== 0 ? `${imageSizeMessage(architecture)}, got ${size}` : undefined;
}

export const GateMetrics = ['accuracy', 'f1'] as const;
export type GateMetric = (typeof GateMetrics)[number];

const fraction = (description: string) => Type.Number({ description, minimum: 0, maximum: 1 });

/** The evaluation gate a new model must pass before any InferenceService may serve it. */
export const EvaluationGate = Type.Object(
  {
    minAccuracy: Type.Optional(
      fraction('Minimum accuracy on the held-out test split (0..1). Default: the operator\'s KENNEL_GATE_MIN_ACCURACY.'),
    ),
    minF1: Type.Optional(fraction('Minimum macro-averaged F1 on the test split (0..1).')),
    minClassRecall: Type.Optional(
      fraction('Minimum recall of every single class on the test split (0..1): no class may be neglected.'),
    ),
    mustBeatChampion: Type.Optional(
      Type.Object(
        {
          metric: Type.Optional(
            StringEnum(GateMetrics, { description: 'Metric compared with the champion: accuracy (default) or f1.' }),
          ),
          margin: Type.Number({
            description:
              'How much better than the champion (the version now serving this model) the new version must be, e.g. 0.01 = one point; 0 = at least as good; negative tolerates a small loss.',
            minimum: -1,
            maximum: 1,
          }),
        },
        { description: 'Require the new version to beat the version now serving this model by a margin.' },
      ),
    ),
  },
  { description: 'Thresholds a new ModelVersion must meet before it may be served; the outcome is recorded in the ModelVersion\'s status.' },
);
export type EvaluationGate = Static<typeof EvaluationGate>;

/** One place training images come from. */
export const DatasetSource = Type.Object(
  {
    uri: StorageUri('dataset.sources[].uri', 'Storage prefix: one folder per class (ClassFolders), or a kennel serve prediction log (PredictionLog).'),
    type: Type.Optional(
      StringEnum(DatasetSourceTypes, {
        description:
          'ClassFolders (default): one folder per class under uri. PredictionLog: the images a prediction log stored, labelled by the feedback people gave (the latest per image), e.g. an InferenceService\'s logging.uri.',
      }),
    ),
  },
  { description: 'A dataset source.' },
);
export type DatasetSource = Static<typeof DatasetSource>;

export const TrainingDataset = Type.Object(
  {
    uri: Type.Optional(StorageUri('dataset.uri', 'Storage prefix holding one folder per class (gs://bucket/prefix or file:///path). Exactly one of uri and sources.')),
    sources: Type.Optional(
      Type.Array(DatasetSource, {
        description:
          'Several sources trained on as one dataset, e.g. the base set plus the corrections of the served model (a PredictionLog, or a folder built by kennel dataset build). An image in several sources keeps the label of the first. The ModelVersion\'s lineage records each with its digest. Exactly one of uri and sources.',
        minItems: 1,
        maxItems: 8,
        'x-kubernetes-list-type': 'atomic',
      } satisfies KubeSchemaOptions),
    ),
    classes: Type.Optional(
      Type.Array(Type.String({ description: 'A class (folder) name.', minLength: 1, maxLength: 253 }), {
        description: 'Classes to train on, in output order; default: every class folder (and feedback label) found, sorted.',
        minItems: 2,
        maxItems: 1000,
        'x-kubernetes-list-type': 'set',
      } satisfies KubeSchemaOptions),
    ),
  },
  {
    description: 'The labelled images: one folder per class under a storage prefix, or several sources.',
    'x-kubernetes-validations': [{ rule: 'has(self.uri) != has(self.sources)', message: 'set exactly one of dataset.uri (one class-per-folder prefix) and dataset.sources (several)' }],
  } satisfies KubeSchemaOptions,
);
export type TrainingDataset = Static<typeof TrainingDataset>;

/** The sources of a run's dataset: `dataset.sources`, or `dataset.uri` as one ClassFolders source. */
export function datasetSources(dataset: TrainingDataset): { uri: string; type: DatasetSourceType }[] {
  if (dataset.sources) return dataset.sources.map((src) => ({ uri: src.uri, type: src.type ?? 'ClassFolders' }));
  return dataset.uri ? [{ uri: dataset.uri, type: 'ClassFolders' }] : [];
}

export const TrainingRunSpec = Type.Object(
  {
    model: Type.String({
      description:
        'Logical model name (a DNS label, at most 40 characters): the ModelVersions of this run are numbered per model, and InferenceServices follow a model by this name.',
      minLength: 1,
      maxLength: 40,
      pattern: DNS_LABEL_PATTERN,
    }),
    dataset: TrainingDataset,
    split: Type.Optional(
      Type.Object(
        {
          train: Type.Number({ description: 'Fraction of the images used for training (0..1].', exclusiveMinimum: 0, maximum: 1 }),
          validation: fraction('Fraction used for validation during training (early stopping).'),
          test: Type.Number({
            description: 'Fraction held out to measure the final metrics (0..1].',
            exclusiveMinimum: 0,
            maximum: 1,
          }),
          seed: Type.Optional(
            Type.Integer({
              description: 'Seed mixed into the content-hash split; the same seed always gives the same split.',
              minimum: 0,
              maximum: 2147483647,
            }),
          ),
        },
        {
          description: 'Deterministic train/validation/test split by content hash. Default: the worker\'s (0.8/0.1/0.1, seed 0).',
          'x-kubernetes-validations': [
            {
              rule: 'self.train + self.validation + self.test > 0.999 && self.train + self.validation + self.test < 1.001',
              message: 'split fractions must sum to 1 (train + validation + test)',
            },
          ],
        } satisfies KubeSchemaOptions,
      ),
    ),
    architecture: Type.Optional(
      StringEnum(Architectures, {
        description:
          'Network architecture: mobilenet-v2 (default: MobileNetV2 pretrained on millions of images, its top blocks fine-tuned on this dataset; image size a multiple of 32, default 160), or a network trained from scratch for comparison and for images unlike photos: compact-cnn (fast on CPU) or simple-cnn (the classic baseline), default size 112.',
      }),
    ),
    hyperparameters: Type.Optional(
      Type.Object(
        {
          epochs: Type.Optional(Type.Integer({ description: 'Maximum number of epochs (at least 1).', minimum: 1, maximum: 10000 })),
          batchSize: Type.Optional(Type.Integer({ description: 'Images per training step.', minimum: 1, maximum: 4096 })),
          learningRate: Type.Optional(
            Type.Number({ description: 'Adam learning rate.', exclusiveMinimum: 0, maximum: 10 }),
          ),
          imageSize: Type.Optional(
            Type.Integer({
              description: 'Images are resized to imageSize x imageSize pixels: 32 to 512 (a multiple of 32) for mobilenet-v2 (default 160), 32 to 512 for compact-cnn and 16 to 512 for simple-cnn (default 112).',
              minimum: 16,
              maximum: 512,
            }),
          ),
          augmentation: Type.Optional(
            Type.Object(
              {
                horizontalFlip: Type.Optional(Type.Boolean({ description: 'Randomly mirror training images left-right.' })),
                randomCrop: Type.Optional(Type.Boolean({ description: 'Randomly shift training images by up to 1/8 of their side (a random crop).' })),
                brightness: Type.Optional(
                  Type.Number({
                    description: 'Maximum random brightness change (0 = off), e.g. 0.1. From scratch only: mobilenet-v2 augments its cached features (mirror images and shifts), not pixels.',
                    minimum: 0,
                    maximum: 1,
                  }),
                ),
              },
              {
                description:
                  'Random changes applied to training images only; each setting left out takes the architecture\'s default (flips and crops on; brightness 0.1 from scratch).',
              },
            ),
          ),
          earlyStoppingPatience: Type.Optional(
            Type.Integer({
              description: 'Stop after this many epochs without a better validation loss (the best weights are kept); 0 = never stop early.',
              minimum: 0,
              maximum: 10000,
            }),
          ),
        },
        { description: 'Training hyperparameters; any left out take the worker\'s defaults.' },
      ),
    ),
    resources: Type.Optional(ResourceRequirements),
    evaluation: Type.Optional(EvaluationGate),
    backoffLimit: Type.Optional(
      Type.Integer({ description: 'Retries of a failed training pod before the run fails (Job backoffLimit; default 1).', minimum: 0, maximum: 10 }),
    ),
    activeDeadlineSeconds: Type.Optional(
      Type.Integer({
        description: 'Seconds the training Job may run in total before it is stopped and the run fails with DeadlineExceeded (default 21600).',
        minimum: 1,
      }),
    ),
    image: Type.Optional(
      Type.String({
        description: 'Worker image override; default: the operator\'s KENNEL_WORKER_IMAGE.',
        minLength: 1,
        maxLength: 512,
      }),
    ),
    serviceAccountName: Type.Optional(
      Type.String({
        description: 'Service account of the training pod (e.g. one bound to a GCP service account); default: the operator\'s KENNEL_SERVICE_ACCOUNT.',
        minLength: 1,
        maxLength: 253,
      }),
    ),
    outputUri: Type.Optional(
      StorageUri(
        'outputUri',
        'Where the model artifact is written; default: <KENNEL_ARTIFACT_ROOT>/<namespace>/<model>/runs/<job name>.',
      ),
    ),
  },
  {
    description: 'What to train, on which data, and the gate the result must pass.',
    'x-kubernetes-validations': imageSizeValidations(),
  } satisfies KubeSchemaOptions,
);

/** CEL rules for the image size of each architecture (the architecture defaults to DEFAULT_ARCHITECTURE). */
function imageSizeValidations(): Array<{ rule: string; message: string }> {
  return Architectures.flatMap((a) => {
    const { min, multiple } = IMAGE_SIZE_RULES[a];
    const checks = [...(min > 16 ? [`self.hyperparameters.imageSize >= ${min}`] : []), ...(multiple > 1 ? [`self.hyperparameters.imageSize % ${multiple} == 0`] : [])];
    if (checks.length === 0) return [];
    return [
      {
        rule: `!has(self.hyperparameters) || !has(self.hyperparameters.imageSize) || (has(self.architecture) ? self.architecture : '${DEFAULT_ARCHITECTURE}') != '${a}' || (${checks.join(' && ')})`,
        message: imageSizeMessage(a),
      },
    ];
  });
}
export type TrainingRunSpec = Static<typeof TrainingRunSpec>;

export const TrainingRunPhases = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type TrainingRunPhase = (typeof TrainingRunPhases)[number];

/**
 * Reasons on a TrainingRun's conditions. Terminal ones (the run will not succeed without a new
 * spec) are listed in {@link TerminalTrainingRunReasons}.
 */
export const TrainingRunReasons = {
  JobCreated: 'JobCreated',
  PodPending: 'PodPending',
  Unschedulable: 'Unschedulable',
  ImagePullFailed: 'ImagePullFailed',
  Training: 'Training',
  RegisteringModel: 'RegisteringModel',
  Succeeded: 'Succeeded',
  DatasetNotFound: 'DatasetNotFound',
  InvalidDataset: 'InvalidDataset',
  StorageAccessDenied: 'StorageAccessDenied',
  StorageUnavailable: 'StorageUnavailable',
  InvalidArguments: 'InvalidArguments',
  TrainingDiverged: 'TrainingDiverged',
  InternalError: 'InternalError',
  OOMKilled: 'OOMKilled',
  DeadlineExceeded: 'DeadlineExceeded',
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  MissingWorkerOutcome: 'MissingWorkerOutcome',
  InvalidSpec: 'InvalidSpec',
  JobFailed: 'JobFailed',
  /** Stopped on request (the kennel.dev/stop annotation, e.g. set by a TrainingSweep's early stopping). */
  Stopped: 'Stopped',
} as const;
export type TrainingRunReason = (typeof TrainingRunReasons)[keyof typeof TrainingRunReasons];

export const TrainingRunStatus = Type.Object(
  {
    phase: Type.Optional(StringEnum(TrainingRunPhases, { description: 'Pending, Running, Succeeded or Failed.' })),
    observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this status describes.', minimum: 0 })),
    jobName: Type.Optional(Type.String({ description: 'Name of the training Job (run name + hash of the spec).' })),
    outputUri: Type.Optional(Type.String({ description: 'Where the worker writes the model artifact.' })),
    progress: Type.Optional(
      Type.Object(
        {
          epoch: Type.Integer({ description: 'Epochs completed.', minimum: 0 }),
          epochs: Type.Integer({ description: 'Maximum epochs of the run.', minimum: 0 }),
          summary: Type.String({ description: 'Epochs completed as "k/n", for kubectl get.' }),
          loss: Type.Optional(Type.Number({ description: 'Training loss of the latest epoch.' })),
          accuracy: Type.Optional(Type.Number({ description: 'Training accuracy of the latest epoch.' })),
          valLoss: Type.Optional(Type.Number({ description: 'Validation loss of the latest epoch.' })),
          valAccuracy: Type.Optional(Type.Number({ description: 'Validation accuracy of the latest epoch.' })),
          imagesPerSecond: Type.Optional(Type.Number({ description: 'Training throughput of the latest epoch.' })),
          valAccuracyHistory: Type.Optional(
            Type.Array(Type.Number({ description: 'Validation accuracy after that epoch.' }), {
              description:
                'Validation accuracy per epoch (index = epoch - 1) of the current attempt, gathered across log polls; a TrainingSweep\'s median stopping reads it.',
              maxItems: 1000,
            }),
          ),
        },
        { description: 'Training progress, from the worker\'s per-epoch report.' },
      ),
    ),
    accuracy: Type.Optional(Type.Number({ description: 'Accuracy of the trained model on the held-out test split.' })),
    modelVersion: Type.Optional(Type.String({ description: 'Name of the ModelVersion registered from this run.' })),
    failure: Type.Optional(
      Type.Object(
        {
          reason: Type.String({ description: 'CamelCase cause, e.g. DatasetNotFound, OOMKilled, DeadlineExceeded.' }),
          message: Type.String({ description: 'What went wrong, for a person.' }),
        },
        { description: 'Why the run failed (phase Failed only).' },
      ),
    ),
    attempts: Type.Optional(
      Type.Object(
        {
          failed: Type.Integer({ description: 'Training pods that failed so far; the Job retries while this stays within backoffLimit.', minimum: 0 }),
          backoffLimit: Type.Integer({ description: 'Failed pods the Job retries (the run\'s spec.backoffLimit, or the default).', minimum: 0 }),
          lastFailure: Type.Optional(Type.String({ description: 'How the latest failed pod ended, e.g. "killed by SIGKILL (exit code 137)".' })),
        },
        { description: 'Retries of the training pod (present once a pod has failed).' },
      ),
    ),
    startTime: Type.Optional(Type.String({ description: 'When the training Job started (RFC 3339).', format: 'date-time' })),
    completionTime: Type.Optional(
      Type.String({ description: 'When the run succeeded or failed (RFC 3339).', format: 'date-time' }),
    ),
    conditions: Type.Optional(Conditions()),
  },
  { description: 'What the operator observed; written only by the operator.' },
);
export type TrainingRunStatus = Static<typeof TrainingRunStatus>;

export const TrainingRun = Resource(TRAINING_RUN_KIND, TrainingRunSpec, TrainingRunStatus);
export type TrainingRun = Static<typeof TrainingRun>;

import { Type, type Static } from '@sinclair/typebox';
import { Conditions, ResourceRequirements, Resource, StorageUri, StringEnum, type KubeSchemaOptions } from './common.js';

/**
 * BatchPrediction: classify every image under a storage prefix with a ModelVersion (named, or the
 * one an InferenceService serves), as an Indexed Job of `parallelism` pods. Each pod takes a
 * deterministic shard, commits its results in parts as it goes (a restarted pod resumes after the
 * last committed part), writes one JSON Lines file per shard and, the last one done, a summary.
 * The spec is the user's; the Job's name is a hash of it, so a spec change makes a new Job.
 */

export const BATCH_PREDICTION_KIND = 'BatchPrediction';
export const BATCH_PREDICTION_PLURAL = 'batchpredictions';

/** Most pods (and so shards) one batch may run at once; each is polled for progress. */
export const MAX_BATCH_PARALLELISM = 100;

const objectName = (description: string) => Type.String({ description, minLength: 1, maxLength: 253 });

export const BatchPredictionSpec = Type.Object(
  {
    input: Type.Object(
      {
        uri: StorageUri(
          'input.uri',
          'Storage prefix whose images are classified: every object under it, in any folder, decoded by content (JPEG, PNG, WebP); hidden files (a path segment starting with .) are skipped.',
        ),
      },
      { description: 'The images to classify.' },
    ),
    model: Type.Object(
      {
        modelVersion: Type.Optional(objectName('A ModelVersion of this namespace (any, whatever its gate or serving eligibility: naming it is a choice).')),
        inferenceService: Type.Optional(
          objectName('An InferenceService of this namespace: the batch uses the ModelVersion it serves (status.currentModelVersion) when the Job is made, and keeps it.'),
        ),
      },
      {
        description: 'The model: a ModelVersion, or whichever one an InferenceService serves. The version used is recorded in status.modelVersion.',
        'x-kubernetes-validations': [
          {
            rule: 'has(self.modelVersion) != has(self.inferenceService)',
            message: 'set exactly one of model.modelVersion (a registered version) and model.inferenceService (the version that service serves)',
          },
        ],
      } satisfies KubeSchemaOptions,
    ),
    outputUri: Type.Optional(
      StorageUri(
        'outputUri',
        'Where results go: predictions-<shard>-of-<shards>.jsonl per shard and summary.json (plus _shards/, the parts committed so far). Default: <KENNEL_ARTIFACT_ROOT>/<namespace>/batch/<name>/<job name>.',
      ),
    ),
    parallelism: Type.Optional(
      Type.Integer({
        description: `Pods of the Indexed Job, each classifying one deterministic shard of the images (by a hash of each path), all at once (default 1, at most ${MAX_BATCH_PARALLELISM}).`,
        minimum: 1,
        maximum: MAX_BATCH_PARALLELISM,
      }),
    ),
    batchSize: Type.Optional(
      Type.Integer({
        description: 'Images predicted in one step and committed in one part of a shard\'s output (default 32): a restarted pod redoes at most this many.',
        minimum: 1,
        maximum: 1024,
      }),
    ),
    resources: Type.Optional(ResourceRequirements),
    backoffLimitPerShard: Type.Optional(
      Type.Integer({
        description: 'Retries of one shard\'s pod after a crash, OOM kill or eviction before the batch fails (Job backoffLimitPerIndex; default 2). Each retry resumes from the shard\'s committed parts.',
        minimum: 0,
        maximum: 10,
      }),
    ),
    activeDeadlineSeconds: Type.Optional(
      Type.Integer({
        description: 'Seconds the Job may run in total before it is stopped and the batch fails with DeadlineExceeded (default 21600).',
        minimum: 1,
      }),
    ),
    image: Type.Optional(Type.String({ description: 'Worker image override; default: the operator\'s KENNEL_WORKER_IMAGE.', minLength: 1, maxLength: 512 })),
    serviceAccountName: Type.Optional(
      Type.String({
        description: 'Service account of the batch pods (e.g. one bound to a GCP service account); default: the operator\'s KENNEL_SERVICE_ACCOUNT.',
        minLength: 1,
        maxLength: 253,
      }),
    ),
  },
  {
    description: 'What to classify, with which model, where the results go, and how many pods share the work.',
    'x-kubernetes-validations': [
      {
        rule: "!has(self.outputUri) || !(self.outputUri + '/').startsWith(self.input.uri.endsWith('/') ? self.input.uri : self.input.uri + '/')",
        message: 'outputUri must not be inside input.uri: the results would be read as images by the next batch over that prefix',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type BatchPredictionSpec = Static<typeof BatchPredictionSpec>;

export const BatchPredictionPhases = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type BatchPredictionPhase = (typeof BatchPredictionPhases)[number];

/** Reasons on a BatchPrediction's conditions; the worker's failure reasons are among them. */
export const BatchPredictionReasons = {
  WaitingForModel: 'WaitingForModel',
  JobCreated: 'JobCreated',
  PodPending: 'PodPending',
  Unschedulable: 'Unschedulable',
  ImagePullFailed: 'ImagePullFailed',
  Predicting: 'Predicting',
  Succeeded: 'Succeeded',
  InputNotFound: 'InputNotFound',
  ModelUnusable: 'ModelUnusable',
  StorageAccessDenied: 'StorageAccessDenied',
  StorageUnavailable: 'StorageUnavailable',
  InvalidArguments: 'InvalidArguments',
  InternalError: 'InternalError',
  OOMKilled: 'OOMKilled',
  DeadlineExceeded: 'DeadlineExceeded',
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  MissingWorkerOutcome: 'MissingWorkerOutcome',
  JobFailed: 'JobFailed',
  InvalidSpec: 'InvalidSpec',
} as const;
export type BatchPredictionReason = (typeof BatchPredictionReasons)[keyof typeof BatchPredictionReasons];

const count = (description: string) => Type.Integer({ description, minimum: 0 });

export const ShardProgress = Type.Object(
  {
    shard: count('Shard index (the pod\'s completion index).'),
    done: count('Images of the shard classified or failed so far (committed parts included).'),
    images: Type.Optional(count('Images in the shard, once its pod has listed the input.')),
    failed: Type.Optional(count('Unreadable images of the shard so far.')),
    finished: Type.Optional(Type.Boolean({ description: 'The shard\'s pod completed it.' })),
  },
  { description: 'What one shard\'s pod reported last.' },
);
export type ShardProgress = Static<typeof ShardProgress>;

export const BatchPredictionStatus = Type.Object(
  {
    phase: Type.Optional(StringEnum(BatchPredictionPhases, { description: 'Pending, Running, Succeeded or Failed.' })),
    observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this status describes.', minimum: 0 })),
    jobName: Type.Optional(Type.String({ description: 'Name of the Indexed Job (batch name + hash of the spec).' })),
    modelVersion: Type.Optional(Type.String({ description: 'The ModelVersion the Job classifies with (resolved once, when the Job was made).' })),
    outputUri: Type.Optional(Type.String({ description: 'Where the results are written.' })),
    shards: Type.Optional(Type.Integer({ description: 'Number of shards (= pods of the Job).', minimum: 1 })),
    progress: Type.Optional(
      Type.Object(
        {
          done: count('Images classified or failed, over all shards.'),
          total: Type.Optional(count('Images under input.uri, as the pods listed them.')),
          failed: count('Unreadable images so far.'),
          shardsDone: count('Shards completed.'),
          summary: Type.String({ description: 'Images done as "done/total", for kubectl get.' }),
          shards: Type.Array(ShardProgress, { description: 'Progress per shard, as each shard\'s pod reported it.', maxItems: 100 }),
        },
        { description: 'Progress as the pods report it (their log lines while they run, their termination message once done).' },
      ),
    ),
    results: Type.Optional(
      Type.Object(
        {
          images: count('Images classified or failed.'),
          predicted: count('Images classified.'),
          failed: count('Images that could not be read or decoded (listed in summary.json and the shards\' JSON Lines).'),
          perClass: Type.Optional(
            Type.Record(Type.String(), count('Images given this label.'), { description: 'Images per predicted label (absent for models with very many classes: see summary.json).' }),
          ),
          summaryUri: Type.String({ description: 'The summary.json the last shard wrote.' }),
        },
        { description: 'What the batch found (phase Succeeded).' },
      ),
    ),
    failure: Type.Optional(
      Type.Object(
        {
          reason: Type.String({ description: 'CamelCase cause, e.g. InputNotFound, ModelUnusable, DeadlineExceeded.' }),
          message: Type.String({ description: 'What went wrong, for a person.' }),
        },
        { description: 'Why the batch failed (phase Failed only).' },
      ),
    ),
    startTime: Type.Optional(Type.String({ description: 'When the Job started (RFC 3339).', format: 'date-time' })),
    completionTime: Type.Optional(Type.String({ description: 'When the batch succeeded or failed (RFC 3339).', format: 'date-time' })),
    conditions: Type.Optional(Conditions()),
  },
  { description: 'What the operator observed; written only by the operator.' },
);
export type BatchPredictionStatus = Static<typeof BatchPredictionStatus>;

export const BatchPrediction = Resource(BATCH_PREDICTION_KIND, BatchPredictionSpec, BatchPredictionStatus);
export type BatchPrediction = Static<typeof BatchPrediction>;

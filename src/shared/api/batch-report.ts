import { Type, type Static } from '@sinclair/typebox';

/**
 * The contract between a `kennel predict-batch` pod and the operator, over the two channels a
 * Job already has (as for training, src/shared/api/worker-report.ts): the pod never talks to the
 * Kubernetes API.
 *
 * 1. stdout: one JSON object per line (pino). Lines whose `event` is `batch-progress` carry a
 *    {@link BatchProgress}; the operator reads the latest from each running pod's log.
 * 2. The termination message (at most 4 KiB): one {@link BatchShardOutcome}, written before exit.
 *
 * And the files under the output prefix ({@link BatchResultLine}, {@link BatchSummary}), which
 * are the product of the batch.
 */

export const BatchFailureReasons = ['InputNotFound', 'ModelUnusable', 'StorageAccessDenied', 'StorageUnavailable', 'InvalidArguments', 'InternalError'] as const;
export type BatchFailureReason = (typeof BatchFailureReasons)[number];

const count = Type.Integer({ minimum: 0 });

/** One progress report of a shard's pod. `done` includes what earlier attempts had committed. */
export const BatchProgress = Type.Object({
  event: Type.Literal('batch-progress'),
  shard: count,
  shards: Type.Integer({ minimum: 1 }),
  /** Images of the shard classified or failed so far. */
  done: count,
  /** Images in the shard. */
  images: count,
  /** Images under the input prefix, all shards together. */
  total: count,
  failed: count,
});
export type BatchProgress = Static<typeof BatchProgress>;

export const BatchShardSuccess = Type.Object({
  outcome: Type.Literal('Succeeded'),
  shard: count,
  shards: Type.Integer({ minimum: 1 }),
  total: count,
  images: count,
  predicted: count,
  failed: count,
  /** Images the shard's earlier attempts had committed (this pod did not redo them). */
  resumed: count,
  /** Images per predicted label; left out when it would not fit the 4 KiB message. */
  perClass: Type.Optional(Type.Record(Type.String(), count)),
  /** Images this pod classified itself per second of its classifying (model load excluded). */
  imagesPerSecond: Type.Number({ minimum: 0 }),
  /** The summary.json of the whole batch, when this pod was the one that wrote it. */
  summaryUri: Type.Optional(Type.String()),
});
export type BatchShardSuccess = Static<typeof BatchShardSuccess>;

export const BatchShardFailure = Type.Object({
  outcome: Type.Literal('Failed'),
  reason: Type.Union(BatchFailureReasons.map((r) => Type.Literal(r))),
  message: Type.String(),
});
export type BatchShardFailure = Static<typeof BatchShardFailure>;

export const BatchShardOutcome = Type.Union([BatchShardSuccess, BatchShardFailure]);
export type BatchShardOutcome = Static<typeof BatchShardOutcome>;

/** An image that could not be classified, and why (reasons as the image decoder gives them, or `vanished`). */
export const BatchFailedImage = Type.Object({
  path: Type.String(),
  reason: Type.String(),
  message: Type.String(),
});
export type BatchFailedImage = Static<typeof BatchFailedImage>;

/**
 * One line of a shard's JSON Lines: the image's path relative to the input prefix and either its
 * label, top-class confidence and every class's probability, or why it could not be read.
 */
export const BatchPredictedLine = Type.Object({
  path: Type.String(),
  label: Type.String(),
  confidence: Type.Number(),
  probabilities: Type.Record(Type.String(), Type.Number()),
});
export type BatchPredictedLine = Static<typeof BatchPredictedLine>;

export const BatchErrorLine = Type.Object({
  path: Type.String(),
  error: Type.Object({ reason: Type.String(), message: Type.String() }),
});
export type BatchErrorLine = Static<typeof BatchErrorLine>;

export const BatchResultLine = Type.Union([BatchPredictedLine, BatchErrorLine]);
export type BatchResultLine = Static<typeof BatchResultLine>;

/** Figures of one shard (its `_shards/<shard>/summary.json`, which marks it complete) or of the whole batch. */
export const BatchCounts = Type.Object({
  images: count,
  predicted: count,
  failed: count,
  perClass: Type.Record(Type.String(), count),
  failures: Type.Array(BatchFailedImage),
  /** True when `failures` was cut to its limit (the JSON Lines list every one). */
  failuresTruncated: Type.Optional(Type.Boolean()),
});
export type BatchCounts = Static<typeof BatchCounts>;

export const BatchShardSummary = Type.Intersect([
  BatchCounts,
  Type.Object({
    shard: count,
    shards: Type.Integer({ minimum: 1 }),
    /** The shard's JSON Lines, relative to the output prefix. */
    file: Type.String(),
  }),
]);
export type BatchShardSummary = Static<typeof BatchShardSummary>;

/** summary.json under the output prefix: the batch's counts and where each shard's results are. */
export const BatchSummary = Type.Intersect([
  BatchCounts,
  Type.Object({
    input: Type.String(),
    model: Type.Object({
      uri: Type.String(),
      sha256: Type.String(),
      classes: Type.Array(Type.String()),
      modelVersion: Type.Optional(Type.String()),
    }),
    shards: Type.Integer({ minimum: 1 }),
    /** The shards' JSON Lines, relative to the output prefix, in shard order. */
    files: Type.Array(Type.String()),
  }),
]);
export type BatchSummary = Static<typeof BatchSummary>;

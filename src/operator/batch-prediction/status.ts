import {
  BatchPredictionReasons as R,
  type BatchPrediction,
  type BatchPredictionPhase,
  type BatchPredictionStatus,
  type ShardProgress,
} from '../../shared/api/batch-prediction.js';
import type { BatchProgress, BatchShardOutcome, BatchShardSuccess } from '../../shared/api/batch-report.js';
import { mergeConditions, summaryConditions, verdictSummary } from '../shared/conditions.js';
import { containerStates, oomKilled, stuckPod, waitingDetail } from '../shared/pod-state.js';
import { conditionOf, rfc3339, type JobWire, type PodWire } from '../shared/wire.js';
import { PREDICT_CONTAINER } from './desired.js';

/**
 * BatchPrediction status from what the operator observes: the Job, its pods, each shard's
 * outcome (termination message) and latest progress (log line). Pure. A finished batch is final
 * for its generation (its Job may be removed by its TTL later).
 */

export interface BatchObservation {
  /** The batch's Job, absent before it is made. */
  job?: JobWire;
  pods: readonly PodWire[];
  jobName: string;
  shards: number;
  outputUri: string;
  /** The ModelVersion the Job was made with (its annotation), or the one it would be made with. */
  modelVersion?: string;
  /** Why there is no Job yet: the model cannot be resolved. */
  waitingForModel?: string;
  outcomes: ReadonlyMap<number, BatchShardOutcome>;
  /** Latest progress line of each running shard's pod. */
  progress: ReadonlyMap<number, BatchProgress>;
  now: Date;
}

export const BatchPredictionWarningPhases: readonly BatchPredictionPhase[] = ['Failed'];

interface Verdict {
  phase: BatchPredictionPhase;
  reason: string;
  message: string;
  terminal: boolean;
}

const successes = (obs: BatchObservation): BatchShardSuccess[] =>
  [...obs.outcomes.values()].filter((o): o is BatchShardSuccess => o.outcome === 'Succeeded');

function failureVerdict(obs: BatchObservation, job: JobWire): Verdict {
  const fail = (reason: string, message: string): Verdict => ({ phase: 'Failed', reason, message, terminal: true });
  for (const [shard, outcome] of [...obs.outcomes].sort(([a], [b]) => a - b)) {
    if (outcome.outcome === 'Failed') return fail(outcome.reason, `shard ${shard}: ${outcome.message}`);
  }
  if (oomKilled(obs.pods, PREDICT_CONTAINER)) {
    return fail(R.OOMKilled, 'a batch pod ran out of memory (OOMKilled): raise spec.resources.limits.memory or lower batchSize');
  }
  const failed = conditionOf(job.status?.conditions, 'Failed');
  const stuck = stuckPod(obs.pods, PREDICT_CONTAINER, 'batch pod');
  if (failed?.reason === 'DeadlineExceeded') return fail(R.DeadlineExceeded, `the Job ran longer than activeDeadlineSeconds${stuck ? ` (${stuck.message})` : ''}`);
  if (stuck) return fail(stuck.reason, stuck.message);
  if (failed?.reason === 'FailedIndexes' || failed?.reason === 'MaxFailedIndexesExceeded' || failed?.reason === 'BackoffLimitExceeded') {
    return fail(R.BackoffLimitExceeded, `a shard's pod failed more often than backoffLimitPerShard allows: ${failed.message ?? ''}`.trim());
  }
  return fail(R.JobFailed, `the batch Job failed (${failed?.reason ?? 'unknown reason'}): ${failed?.message ?? ''}`.trim());
}

function verdict(obs: BatchObservation, done: number, total: number | undefined, shardsDone: number): Verdict {
  const job = obs.job;
  if (!job) {
    if (obs.waitingForModel) return { phase: 'Pending', reason: R.WaitingForModel, message: obs.waitingForModel, terminal: false };
    return { phase: 'Pending', reason: R.JobCreated, message: `creating Job ${obs.jobName}`, terminal: false };
  }
  if (conditionOf(job.status?.conditions, 'Failed')?.status === 'True') return failureVerdict(obs, job);
  if (conditionOf(job.status?.conditions, 'Complete')?.status === 'True') {
    if (successes(obs).length < obs.shards) {
      return { phase: 'Failed', reason: R.MissingWorkerOutcome, message: `the Job completed but only ${successes(obs).length} of ${obs.shards} shards left a readable outcome in their termination message`, terminal: true };
    }
    return { phase: 'Succeeded', reason: R.Succeeded, message: `classified ${done} images with ${obs.modelVersion ?? 'the model'} into ${obs.outputUri}`, terminal: false };
  }
  const stuck = stuckPod(obs.pods, PREDICT_CONTAINER, 'batch pod');
  if (stuck) return { phase: 'Pending', ...stuck, terminal: false };
  const running = obs.pods.some((p) => p.status?.phase === 'Running' && containerStates(p, PREDICT_CONTAINER)[0]?.running);
  if (running || shardsDone > 0) {
    return { phase: 'Running', reason: R.Predicting, message: `${done}/${total ?? '?'} images, ${shardsDone}/${obs.shards} shards done`, terminal: false };
  }
  return { phase: 'Pending', reason: R.PodPending, message: `waiting for the pods of Job ${obs.jobName}${waitingDetail(obs.pods, PREDICT_CONTAINER)}`, terminal: false };
}

/** Each shard's progress: its outcome when it finished, else its latest log line, never going back from what was reported before. */
function shardProgress(obs: BatchObservation, previous: readonly ShardProgress[]): ShardProgress[] {
  return Array.from({ length: obs.shards }, (_, shard) => {
    const before = previous.find((p) => p.shard === shard);
    const outcome = obs.outcomes.get(shard);
    if (outcome?.outcome === 'Succeeded') return { shard, done: outcome.images, images: outcome.images, failed: outcome.failed, finished: true };
    const line = obs.progress.get(shard);
    if (!line) return before ?? { shard, done: 0 };
    return { shard, done: Math.max(line.done, before?.done ?? 0), images: line.images, failed: Math.max(line.failed, before?.failed ?? 0) };
  });
}

function totalOf(obs: BatchObservation, previous: BatchPredictionStatus['progress']): number | undefined {
  for (const o of successes(obs)) return o.total;
  for (const p of obs.progress.values()) return p.total;
  return previous?.total;
}

function resultsOf(obs: BatchObservation): NonNullable<BatchPredictionStatus['results']> {
  const all = successes(obs);
  const results: NonNullable<BatchPredictionStatus['results']> = {
    images: all.reduce((n, o) => n + o.images, 0),
    predicted: all.reduce((n, o) => n + o.predicted, 0),
    failed: all.reduce((n, o) => n + o.failed, 0),
    summaryUri: `${obs.outputUri}/summary.json`,
  };
  if (all.every((o) => o.perClass)) {
    const perClass: Record<string, number> = {};
    for (const o of all) for (const [label, n] of Object.entries(o.perClass ?? {})) perClass[label] = (perClass[label] ?? 0) + n;
    results.perClass = perClass;
  }
  return results;
}

function isFinished(status: BatchPredictionStatus | undefined, generation: number | undefined): boolean {
  return (status?.phase === 'Succeeded' || status?.phase === 'Failed') && status.observedGeneration === generation;
}

export function computeBatchPredictionStatus(bp: BatchPrediction, obs: BatchObservation): BatchPredictionStatus {
  const previous = bp.status;
  const generation = bp.metadata.generation;
  if (previous && isFinished(previous, generation)) return previous;
  const sameJob = previous?.jobName === obs.jobName;
  const shards = shardProgress(obs, sameJob ? (previous?.progress?.shards ?? []) : []);
  const total = totalOf(obs, sameJob ? previous?.progress : undefined);
  const done = shards.reduce((n, s) => n + s.done, 0);
  const shardsDone = shards.filter((s) => s.finished).length;
  const v = verdict(obs, done, total, shardsDone);

  const status: BatchPredictionStatus = { phase: v.phase, jobName: obs.jobName, outputUri: obs.outputUri, shards: obs.shards };
  if (generation !== undefined) status.observedGeneration = generation;
  if (obs.modelVersion) status.modelVersion = obs.modelVersion;
  if (obs.job) {
    status.progress = {
      done,
      ...(total !== undefined ? { total } : {}),
      failed: shards.reduce((n, s) => n + (s.failed ?? 0), 0),
      shardsDone,
      summary: `${done}/${total ?? '?'}`,
      shards,
    };
  }
  const startTime = obs.job?.status?.startTime ?? (sameJob ? previous?.startTime : undefined);
  if (startTime) status.startTime = startTime;
  if (v.phase === 'Succeeded') status.results = resultsOf(obs);
  if (v.phase === 'Failed') status.failure = { reason: v.reason, message: v.message };
  if (v.phase === 'Succeeded' || v.phase === 'Failed') status.completionTime = obs.job?.status?.completionTime ?? rfc3339(obs.now);

  const summary = verdictSummary(v, v.phase === 'Succeeded');
  status.conditions = mergeConditions(previous?.conditions, summaryConditions(summary), { now: obs.now, generation });
  return status;
}

import {
  TrainingRunReasons as R,
  type TrainingRun,
  type TrainingRunPhase,
  type TrainingRunStatus,
} from '../../shared/api/training-run.js';
import type { EpochProgress, WorkerOutcome } from '../../shared/api/worker-report.js';
import { mergeConditions, summaryConditions, verdictSummary } from '../shared/conditions.js';
import { containerStates, newestFirst, oomKilled, stuckPod as stuckPodOf, waitingDetail as waitingDetailOf } from '../shared/pod-state.js';
import { conditionOf, rfc3339, type JobWire, type PodWire } from '../shared/wire.js';
import { jobFinished } from '../shared/job-state.js';
import { TRAIN_CONTAINER } from './desired.js';

/**
 * TrainingRun status from what the operator observes: the Job, its Pods, the worker's outcome
 * (termination message) and progress (latest epoch line). Pure.
 *
 * A finished run (Succeeded/Failed) is final for its generation: the Job may be garbage
 * collected by its TTL later, and that must not send the run back to Pending.
 */

export interface TrainingObservation {
  /** The run's Job (named by trainingJobName), absent before it is created. */
  job?: JobWire;
  /** The Job's pods. */
  pods: readonly PodWire[];
  /** Parsed from the newest training container's termination message. */
  outcome?: WorkerOutcome;
  /** Every epoch line of the training pod's log tail read this time, in order: the last is the progress shown, all feed the history. */
  epochLines?: readonly EpochProgress[];
  /** The run's kennel.dev/stop annotation, when it has one: why it is to stop. */
  stop?: string;
  /** Name of the ModelVersion registered for this run, once it exists. */
  modelVersion?: string;
  jobName: string;
  outputUri: string;
  now: Date;
}

/** Phases announced by a Warning Event. */
export const TrainingRunWarningPhases: readonly TrainingRunPhase[] = ['Failed'];

/** How the run stands, before it is written into status. */
interface Verdict {
  phase: TrainingRunPhase;
  reason: string;
  message: string;
  terminal: boolean;
}

const stuckPod = (pods: readonly PodWire[]) => stuckPodOf(pods, TRAIN_CONTAINER, 'training pod');

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** How the newest training pod that failed ended, for a person: "killed by SIGKILL (exit code 137)". */
export function lastPodFailure(pods: readonly PodWire[]): string | undefined {
  for (const pod of newestFirst(pods)) {
    const t = containerStates(pod, TRAIN_CONTAINER).find((s) => s.terminated && s.terminated.exitCode !== 0)?.terminated;
    if (!t) {
      if (pod.status?.phase === 'Failed') return `pod ${pod.metadata?.name ?? ''} failed: ${pod.status.reason ?? 'unknown reason'}${pod.status.message ? `: ${pod.status.message}` : ''}`;
      continue;
    }
    if (t.reason === 'OOMKilled') return 'OOMKilled (out of memory)';
    const code = t.exitCode ?? -1;
    const signal = code > 128 ? (SIGNALS[code - 128] ?? `signal ${code - 128}`) : undefined;
    return signal ? `killed by ${signal} (exit code ${code})` : `exited with code ${code}${t.reason && t.reason !== 'Error' ? ` (${t.reason})` : ''}`;
  }
  return undefined;
}

function attemptsOf(obs: TrainingObservation): TrainingRunStatus['attempts'] {
  const failed = obs.job?.status?.failed ?? 0;
  if (failed === 0) return undefined;
  const lastFailure = lastPodFailure(obs.pods);
  return { failed, backoffLimit: obs.job?.spec?.backoffLimit ?? 0, ...(lastFailure ? { lastFailure } : {}) };
}

function failureVerdict(obs: TrainingObservation, jobReason: string | undefined, jobMessage: string | undefined): Verdict {
  const fail = (reason: string, message: string): Verdict => ({ phase: 'Failed', reason, message, terminal: true });
  if (obs.outcome?.outcome === 'Failed') return fail(obs.outcome.reason, obs.outcome.message);
  if (oomKilled(obs.pods, TRAIN_CONTAINER)) {
    return fail(R.OOMKilled, 'the training container ran out of memory (OOMKilled): raise spec.resources.limits.memory or lower batchSize/imageSize');
  }
  const stuck = stuckPod(obs.pods);
  if (jobReason === 'DeadlineExceeded') {
    const why = stuck ? ` (${stuck.message})` : '';
    return fail(R.DeadlineExceeded, `the Job ran longer than activeDeadlineSeconds${why}`);
  }
  if (stuck) return fail(stuck.reason, stuck.message);
  if (jobReason === 'BackoffLimitExceeded') {
    const attempts = attemptsOf(obs);
    const last = attempts?.lastFailure ? `; the last attempt ${attempts.lastFailure}` : '';
    const times = attempts ? ` ${attempts.failed} times (backoffLimit ${attempts.backoffLimit})` : ' more often than backoffLimit allows';
    return fail(R.BackoffLimitExceeded, `the training pod failed${times}${last}: ${jobMessage ?? ''}`.trim().replace(/:$/, ''));
  }
  return fail(R.JobFailed, `the training Job failed (${jobReason ?? 'unknown reason'}): ${jobMessage ?? ''}`.trim());
}

/** How a stopped run reads: the annotation's text, or a default when it is empty. */
export function stoppedMessage(why: string): string {
  return why.trim() || 'stopped by the kennel.dev/stop annotation';
}

function verdict(obs: TrainingObservation): Verdict {
  const job = obs.job;
  // A Job that ended before the stop took effect reports how it ended; any other is stopped.
  if (obs.stop !== undefined && !(job && jobFinished(job))) return { phase: 'Failed', reason: R.Stopped, message: stoppedMessage(obs.stop), terminal: true };
  if (!job) return { phase: 'Pending', reason: R.JobCreated, message: `creating Job ${obs.jobName}`, terminal: false };
  const failed = conditionOf(job.status?.conditions, 'Failed');
  if (failed?.status === 'True') return failureVerdict(obs, failed.reason, failed.message);
  const complete = conditionOf(job.status?.conditions, 'Complete');
  if (complete?.status === 'True' || (job.status?.succeeded ?? 0) > 0) {
    if (obs.outcome?.outcome !== 'Succeeded') {
      return {
        phase: 'Failed',
        reason: R.MissingWorkerOutcome,
        message: 'the Job succeeded but the worker left no readable outcome in its termination message',
        terminal: true,
      };
    }
    if (!obs.modelVersion) {
      return { phase: 'Running', reason: R.RegisteringModel, message: 'training finished; registering the ModelVersion', terminal: false };
    }
    return {
      phase: 'Succeeded',
      reason: R.Succeeded,
      message: `trained ${obs.modelVersion}: test accuracy ${obs.outcome.metrics.accuracy.toFixed(3)}`,
      terminal: false,
    };
  }
  const stuck = stuckPod(obs.pods);
  if (stuck) return { phase: 'Pending', ...stuck, terminal: false };
  const running = obs.pods.some((p) => p.status?.phase === 'Running' && containerStates(p, TRAIN_CONTAINER)[0]?.running);
  if (running) {
    const p = obs.epochLines?.at(-1);
    const attempts = attemptsOf(obs);
    const retry = attempts ? ` (attempt ${attempts.failed + 1} of ${attempts.backoffLimit + 1}; the previous pod ${attempts.lastFailure ?? 'failed'})` : '';
    const message = (p ? `epoch ${p.epoch}/${p.epochs}${p.valAccuracy !== undefined ? `, validation accuracy ${p.valAccuracy.toFixed(3)}` : ''}` : 'training started') + retry;
    return { phase: 'Running', reason: R.Training, message, terminal: false };
  }
  return { phase: 'Pending', reason: R.PodPending, message: `waiting for the training pod of Job ${obs.jobName}${waitingDetailOf(obs.pods, TRAIN_CONTAINER)}`, terminal: false };
}

/**
 * A metric as status shows it: 4 decimals. `kubectl get` prints a number column with every
 * digit it has (VAL-ACCURACY 0.967741935483871), and status is for people; the exact figures
 * stay in the artifact's metrics.json and the ModelVersion.
 */
export function displayMetric(x: number, decimals = 4): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Most epochs whose validation accuracy status keeps (status.progress.valAccuracyHistory). */
export const MAX_VAL_ACCURACY_HISTORY = 1000;

/**
 * The run's validation accuracy per epoch (index = epoch − 1), accumulated across log polls: the
 * log tail holds only the last lines, so each poll adds what it sees to what status already has.
 * A pod that restarts trains again from epoch 1: entries past the newest epoch the log shows
 * belong to the earlier attempt and are dropped, the others are overwritten as the new pod
 * reaches them. Only a contiguous prefix is kept (an epoch whose line scrolled out of the tail
 * between two polls ends the history there, rather than leaving a hole). Pure.
 */
export function valAccuracyHistory(previous: readonly number[] | undefined, lines: readonly EpochProgress[]): number[] | undefined {
  const latest = lines.at(-1);
  if (!latest) return previous ? [...previous] : undefined;
  const history = (previous ?? []).slice(0, latest.epoch);
  for (const line of lines) {
    if (line.valAccuracy === undefined || line.epoch > MAX_VAL_ACCURACY_HISTORY || line.epoch > history.length + 1) continue;
    history[line.epoch - 1] = displayMetric(line.valAccuracy);
  }
  return history.length > 0 ? history : undefined;
}

function progressOf(p: EpochProgress | undefined, lines: readonly EpochProgress[], previous: TrainingRunStatus['progress']): TrainingRunStatus['progress'] {
  if (!p) return previous;
  const out: NonNullable<TrainingRunStatus['progress']> = { epoch: p.epoch, epochs: p.epochs, summary: `${p.epoch}/${p.epochs}` };
  out.loss = displayMetric(p.loss);
  out.accuracy = displayMetric(p.accuracy);
  if (p.valLoss !== undefined) out.valLoss = displayMetric(p.valLoss);
  if (p.valAccuracy !== undefined) out.valAccuracy = displayMetric(p.valAccuracy);
  if (p.imagesPerSecond !== undefined) out.imagesPerSecond = displayMetric(p.imagesPerSecond, 1);
  const history = valAccuracyHistory(previous?.valAccuracyHistory, lines);
  if (history) out.valAccuracyHistory = history;
  return out;
}

function isFinished(status: TrainingRunStatus | undefined, generation: number | undefined): boolean {
  return (status?.phase === 'Succeeded' || status?.phase === 'Failed') && status.observedGeneration === generation;
}

/** The run's new status. Returns the current status unchanged when the run already finished. */
export function computeTrainingRunStatus(run: TrainingRun, obs: TrainingObservation): TrainingRunStatus {
  const previous = run.status;
  const generation = run.metadata.generation;
  if (previous && isFinished(previous, generation)) return previous;
  const v = verdict(obs);
  const status: TrainingRunStatus = { phase: v.phase, jobName: obs.jobName, outputUri: obs.outputUri };
  if (generation !== undefined) status.observedGeneration = generation;
  const lines = obs.epochLines ?? [];
  const progress = progressOf(lines.at(-1), lines, previous?.jobName === obs.jobName ? previous.progress : undefined);
  if (progress) status.progress = progress;
  const startTime = obs.job?.status?.startTime ?? (previous?.jobName === obs.jobName ? previous.startTime : undefined);
  if (startTime) status.startTime = startTime;
  const attempts = attemptsOf(obs);
  if (attempts) status.attempts = attempts;
  if (v.phase === 'Succeeded' && obs.outcome?.outcome === 'Succeeded') {
    status.accuracy = displayMetric(obs.outcome.metrics.accuracy);
    if (obs.modelVersion) status.modelVersion = obs.modelVersion;
  }
  if (v.phase === 'Failed') status.failure = { reason: v.reason, message: v.message };
  if (v.phase === 'Succeeded' || v.phase === 'Failed') status.completionTime = obs.job?.status?.completionTime ?? rfc3339(obs.now);

  const summary = verdictSummary(v, v.phase === 'Succeeded');
  status.conditions = mergeConditions(previous?.conditions, summaryConditions(summary), { now: obs.now, generation });
  return status;
}

import type { TrainingRun } from '../../shared/api/training-run.js';
import { DEFAULT_MIN_EPOCHS, DEFAULT_MIN_TRIALS, type EarlyStopping } from '../../shared/api/training-sweep.js';
import { Annotations } from '../shared/labels.js';
import { runFinished } from './desired.js';

/**
 * The median stopping rule (Google Vizier's): a running trial that has completed e epochs
 * (e >= minEpochs) is stopped when its best validation accuracy up to epoch e is strictly below
 * the median, over the other trials that reached epoch e (running, finished or stopped), of
 * their mean validation accuracy over epochs 1..e — and only when at least minTrials such
 * trials exist. A trial is judged at its newest epoch only: each progress poll judges it again.
 * Pure.
 */

export interface TrialHistory {
  readonly trial: number;
  /** Validation accuracy per epoch (index = epoch − 1), as the trial's TrainingRun status has it. */
  readonly history: readonly number[];
  /** Still training and not asked to stop yet: only these are judged. */
  readonly running: boolean;
}

/** A trial to stop and the figures that condemned it (shown in the leaderboard). */
export interface StopDecision {
  readonly trial: number;
  readonly epoch: number;
  readonly bestValAccuracy: number;
  readonly median: number;
  /** Other trials the median was taken over. */
  readonly trials: number;
}

export interface MedianPolicy {
  readonly minEpochs: number;
  readonly minTrials: number;
}

/**
 * The trials' histories from their runs (by trial number): a run's status describes its current
 * spec only once observedGeneration caught up; a run already asked to stop is not judged again.
 */
export function trialHistories(runs: ReadonlyMap<number, TrainingRun>): TrialHistory[] {
  return [...runs.entries()].map(([trial, run]) => {
    const current = run.status?.observedGeneration === run.metadata.generation;
    const history = current ? (run.status?.progress?.valAccuracyHistory ?? []) : [];
    const running = current && !runFinished(run) && run.metadata.annotations?.[Annotations.stop] === undefined;
    return { trial, history, running };
  });
}

/** The spec's policy with its defaults filled in. */
export function medianPolicy(spec: EarlyStopping): MedianPolicy {
  return { minEpochs: spec.minEpochs ?? DEFAULT_MIN_EPOCHS, minTrials: spec.minTrials ?? DEFAULT_MIN_TRIALS };
}

/** The policy as status reports it. */
export function describePolicy(p: MedianPolicy): string {
  return `Median (minEpochs ${p.minEpochs}, minTrials ${p.minTrials})`;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Four decimals, as status shows metrics. */
const show = (x: number) => Math.round(x * 1e4) / 1e4;

/** The running trials to stop now, in trial order. */
export function medianStoppingDecisions(policy: MedianPolicy, trials: readonly TrialHistory[]): StopDecision[] {
  const out: StopDecision[] = [];
  for (const t of trials) {
    const epoch = t.history.length;
    if (!t.running || epoch < policy.minEpochs) continue;
    const others = trials.filter((o) => o.trial !== t.trial && o.history.length >= epoch);
    if (others.length < policy.minTrials) continue;
    const med = median(others.map((o) => mean(o.history.slice(0, epoch))));
    const best = Math.max(...t.history);
    if (best < med) out.push({ trial: t.trial, epoch, bestValAccuracy: show(best), median: show(med), trials: others.length });
  }
  return out;
}

/** What the stopped run's kennel.dev/stop annotation (and so its failure message) says. */
export function stopMessage(sweepName: string, d: StopDecision): string {
  return `stopped early by TrainingSweep ${sweepName} (median stopping): best validation accuracy ${d.bestValAccuracy} by epoch ${d.epoch} is below ${d.median}, the median of ${d.trials} other trials' mean validation accuracy up to epoch ${d.epoch}`;
}

/** The figures kept on the stopped run (annotation kennel.dev/sweep-stop), read back for the leaderboard; undefined when absent or malformed. */
export function parseStopDetails(text: string | undefined): Omit<StopDecision, 'trial'> | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const { epoch, bestValAccuracy, median: med, trials } = v;
    if (typeof epoch === 'number' && typeof bestValAccuracy === 'number' && typeof med === 'number' && typeof trials === 'number') {
      return { epoch, bestValAccuracy, median: med, trials };
    }
  } catch {
    // not JSON: shown without figures
  }
  return undefined;
}

export function stopDetailsAnnotation(d: StopDecision): string {
  return JSON.stringify({ epoch: d.epoch, bestValAccuracy: d.bestValAccuracy, median: d.median, trials: d.trials });
}

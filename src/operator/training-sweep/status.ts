import type { ModelVersion } from '../../shared/api/model-version.js';
import { TrainingRunReasons, type TrainingRun } from '../../shared/api/training-run.js';
import {
  defaultDirection,
  TrainingSweepReasons as R,
  type SweepTrial,
  type TrainingSweep,
  type TrainingSweepPhase,
  type TrainingSweepStatus,
} from '../../shared/api/training-sweep.js';
import { mergeConditions, summaryConditions, verdictSummary } from '../shared/conditions.js';
import { rfc3339 } from '../shared/wire.js';
import { Annotations } from '../shared/labels.js';
import { desiredTrialRun, runFinished } from './desired.js';
import { describePolicy, medianPolicy, parseStopDetails } from './median-stopping.js';
import type { Trial } from './trials.js';

/**
 * TrainingSweep status from its trials' TrainingRuns and their ModelVersions: the leaderboard
 * (every trial in trial order, its parameters, phase, ModelVersion, objective value and gate
 * verdict, ranked), the counts, and — once every trial has finished — the best trial. A trial is
 * finished when its run failed or its ModelVersion's gate is decided. The winner is the
 * best-ranked trial whose version passed its evaluation gate: a sweep exists to put a model into
 * serving, and a rejected version is never served, so a better objective value behind a failed
 * gate does not win (the message says it was passed over). When every version was rejected the
 * sweep fails with NoTrialPassedGate. Pure. A finished sweep is final for its generation.
 */

export interface SweepObservation {
  trials: readonly Trial[];
  /** The sweep's runs by trial number. */
  runs: ReadonlyMap<number, TrainingRun>;
  /** ModelVersions of the namespace, by name. */
  modelVersions: ReadonlyMap<string, ModelVersion>;
  now: Date;
}

export const TrainingSweepWarningPhases: readonly TrainingSweepPhase[] = ['Failed'];

/** The objective value of a version, when it has the metric. */
export function objectiveValue(sweep: TrainingSweep, mv: ModelVersion): number | undefined {
  const v = mv.spec.metrics[sweep.spec.objective.metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function directionOf(sweep: TrainingSweep): 'Maximize' | 'Minimize' {
  return sweep.spec.objective.direction ?? defaultDirection(sweep.spec.objective.metric);
}

interface Row extends SweepTrial {
  /** Its run failed, or its ModelVersion is registered and its gate decided. */
  finished: boolean;
  /** The gate's failed findings, for the message when the best-ranked trial was rejected. */
  gateFindings?: string[];
}

function row(sweep: TrainingSweep, trial: Trial, obs: SweepObservation): Row {
  const run = obs.runs.get(trial.trial);
  const base = { trial: trial.trial, trainingRun: run?.metadata.name ?? desiredTrialRun(sweep, trial).metadata.name, parameters: { ...trial.parameters } };
  if (!run) return { ...base, phase: 'NotStarted', finished: false };
  const current = runFinished(run);
  const phase = current ? (run.status?.phase ?? 'Pending') : run.status?.phase === 'Running' ? 'Running' : 'Pending';
  const out: Row = { ...base, phase, finished: false };
  const figures = parseStopDetails(run.metadata.annotations?.[Annotations.sweepStopDetails]);
  if (current && run.status?.phase === 'Failed' && run.status.failure?.reason === TrainingRunReasons.Stopped) {
    // stopped early (by the sweep, or by hand): finished, never a winner, not a failure
    out.phase = 'Stopped';
    out.finished = true;
    if (figures) out.stopped = figures;
    return out;
  }
  if (current && run.status?.phase === 'Failed') {
    out.finished = true;
    if (run.status.failure) out.failure = run.status.failure.reason;
    return out;
  }
  const stopping = run.metadata.annotations?.[Annotations.stop];
  if (!current && stopping !== undefined) {
    // asked to stop; its controller has not ended it yet
    out.phase = 'Stopping';
    if (figures) out.stopped = figures;
    return out;
  }
  const name = current ? run.status?.modelVersion : undefined;
  if (!name) return out;
  out.modelVersion = name;
  const mv = obs.modelVersions.get(name);
  if (!mv) return out; // registered, not in the cache yet: its watch event brings the sweep back
  const value = objectiveValue(sweep, mv);
  if (value !== undefined) out.value = value;
  const gate = mv.status?.gate;
  if (!gate) return out; // its gate is being decided: the ModelVersion's status update brings the sweep back
  out.gate = gate.passed ? 'Passed' : 'Rejected';
  if (!gate.passed) out.gateFindings = gate.reasons.filter((r) => r.startsWith('FAIL'));
  out.finished = true;
  return out;
}

/** Ranks rows with a value (1 = best; ties go to the lower trial number). */
function rank(rows: Row[], direction: 'Maximize' | 'Minimize'): Row[] {
  const sign = direction === 'Maximize' ? -1 : 1;
  const scored = rows.filter((r) => r.value !== undefined).sort((a, b) => sign * ((a.value ?? 0) - (b.value ?? 0)) || a.trial - b.trial);
  scored.forEach((r, i) => (r.rank = i + 1));
  return scored;
}

export function computeTrainingSweepStatus(sweep: TrainingSweep, obs: SweepObservation): TrainingSweepStatus {
  const previous = sweep.status;
  const generation = sweep.metadata.generation;
  if ((previous?.phase === 'Succeeded' || previous?.phase === 'Failed') && previous.observedGeneration === generation) return previous;

  const rows = obs.trials.map((t) => row(sweep, t, obs));
  const ranked = rank(rows, directionOf(sweep));
  const total = rows.length;
  const done = rows.filter((r) => r.finished).length;
  const running = rows.filter((r) => r.phase !== 'NotStarted' && !r.finished).length;
  const failed = rows.filter((r) => r.phase === 'Failed').length;
  const stopped = rows.filter((r) => r.phase === 'Stopped').length;
  const allDone = total > 0 && done === total;
  const winner = allDone ? ranked.find((r) => r.gate === 'Passed') : undefined;
  if (winner) winner.best = true;
  const metric = sweep.spec.objective.metric;
  const rejected = ranked.filter((r) => r.gate === 'Rejected');
  const passedOver = winner ? rejected.filter((r) => (r.rank ?? 0) < (winner.rank ?? 0)) : [];

  let phase: TrainingSweepPhase;
  let reason: string;
  let message: string;
  if (winner?.modelVersion !== undefined && winner.value !== undefined) {
    phase = 'Succeeded';
    reason = R.BestTrialSelected;
    const notes = [
      ...(passedOver.length > 0 ? [`${passedOver.map((r) => `trial ${r.trial}`).join(', ')} ranked higher but ${passedOver.length === 1 ? 'its ModelVersion was' : 'their ModelVersions were'} rejected by the evaluation gate`] : []),
      ...(failed ? [`${failed} trials failed`] : []),
      ...(stopped ? [`${stopped} stopped early`] : []),
    ];
    message = `trial ${winner.trial} (${winner.trainingRun}) is the best of ${total} with ${metric} ${winner.value}: ${winner.modelVersion} is the sweep's one ModelVersion eligible for serving${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  } else if (allDone && ranked.length > 0) {
    phase = 'Failed';
    reason = R.NoTrialPassedGate;
    const top = ranked[0] as Row;
    message = `none of the ${ranked.length} trial ModelVersions passed its evaluation gate, so none is served; the best by ${metric}, trial ${top.trial} (${top.modelVersion}, ${top.value}), was rejected: ${(top.gateFindings ?? []).join('; ') || 'see its status.gate'}${failed ? ` (${failed} trials failed)` : ''}`;
  } else if (allDone) {
    phase = 'Failed';
    reason = R.NoTrialSucceeded;
    message = `none of the ${total} trials produced a ModelVersion with ${metric}${failed ? ` (${failed} failed)` : ''}${stopped ? ` (${stopped} stopped early)` : ''}`;
  } else if (obs.runs.size === 0) {
    phase = 'Pending';
    reason = R.TrialsRunning;
    message = `starting the first of ${total} trials`;
  } else {
    const waiting = rows.filter((r) => !r.finished && r.modelVersion !== undefined).length;
    phase = 'Running';
    reason = waiting > 0 && running === waiting ? R.WaitingForModelVersions : R.TrialsRunning;
    message = `${done}/${total} trials finished, ${running} running${waiting ? ` (${waiting} waiting for ${waiting === 1 ? 'its ModelVersion and gate verdict' : 'their ModelVersions and gate verdicts'})` : ''}${failed ? `, ${failed} failed` : ''}${stopped ? `, ${stopped} stopped early` : ''}`;
  }

  const status: TrainingSweepStatus = {
    phase,
    trials: total,
    running: phase === 'Succeeded' || phase === 'Failed' ? 0 : running,
    succeeded: ranked.length,
    failed,
    stopped,
    summary: `${done}/${total}`,
    objective: `${metric} (${directionOf(sweep)})`,
    leaderboard: rows.map(({ finished: _finished, gateFindings: _findings, ...r }) => r),
  };
  if (sweep.spec.earlyStopping) status.earlyStopping = describePolicy(medianPolicy(sweep.spec.earlyStopping));
  if (generation !== undefined) status.observedGeneration = generation;
  if (winner?.modelVersion !== undefined && winner.value !== undefined) {
    status.best = { trial: winner.trial, trainingRun: winner.trainingRun, modelVersion: winner.modelVersion, value: winner.value };
  }
  if (phase === 'Failed') status.failure = { reason, message };
  const startTime = previous?.startTime ?? (obs.runs.size > 0 ? rfc3339(obs.now) : undefined);
  if (startTime) status.startTime = startTime;
  if (phase === 'Succeeded' || phase === 'Failed') status.completionTime = rfc3339(obs.now);
  const summary = verdictSummary({ reason, message, terminal: phase === 'Failed' }, phase === 'Succeeded');
  status.conditions = mergeConditions(previous?.conditions, summaryConditions(summary), { now: obs.now, generation });
  return status;
}

import { API_VERSION } from '../../shared/api/common.js';
import { TRAINING_RUN_KIND, type TrainingRun, type TrainingRunSpec } from '../../shared/api/training-run.js';
import type { TrainingSweep } from '../../shared/api/training-sweep.js';
import { Labels, MANAGED_BY, ownerReference } from '../shared/labels.js';
import { childName, specHash } from '../shared/names.js';
import { trialSpec, type Trial } from './trials.js';

/**
 * A sweep's trials → the TrainingRuns it owns. Pure. A trial's run is named
 * `<sweep>-<trial>-<hash of its spec>`, so a restarted operator finds the runs it made, and a
 * trial whose spec changes with the sweep's is a new run (the old one is deleted) that registers
 * a ModelVersion of its own — a TrainingRun registers one version in its life. It carries the sweep's name and the trial
 * number as labels (its ModelVersion inherits the sweep label, which is how that version is born
 * not eligible for serving) and the sweep as controlling owner, so deleting the sweep deletes
 * its runs (never their ModelVersions: the registry outlives both).
 */

export function trialRunName(sweepName: string, trial: number, spec: TrainingRunSpec): string {
  return childName(sweepName, `${trial}-${specHash(spec)}`);
}

export function desiredTrialRun(sweep: TrainingSweep, trial: Trial): TrainingRun {
  const spec = trialSpec(sweep.spec.template, trial.parameters);
  return {
    apiVersion: API_VERSION,
    kind: TRAINING_RUN_KIND,
    metadata: {
      name: trialRunName(sweep.metadata.name, trial.trial, spec),
      ...(sweep.metadata.namespace ? { namespace: sweep.metadata.namespace } : {}),
      labels: {
        [Labels.managedBy]: MANAGED_BY,
        [Labels.partOf]: 'kennel',
        [Labels.trainingSweep]: sweep.metadata.name,
        [Labels.sweepTrial]: String(trial.trial),
      },
      ownerReferences: [ownerReference(sweep)],
    },
    spec,
  };
}

/** The trial number of a run this sweep owns, or undefined for any other run (whatever its spec: see {@link currentRuns}). */
export function trialOf(run: TrainingRun, sweep: TrainingSweep): number | undefined {
  const owned = run.metadata.ownerReferences?.some((o) => (o as { uid?: string }).uid === sweep.metadata.uid);
  const label = run.metadata.labels?.[Labels.trainingSweep];
  const n = Number(run.metadata.labels?.[Labels.sweepTrial]);
  return owned && label === sweep.metadata.name && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The sweep's runs split by whether they are the current run of their trial (same name as the
 * desired one): current ones by trial number, and the others — of a trial the spec no longer
 * has, or of an earlier spec of it — to delete.
 */
export function currentRuns(sweep: TrainingSweep, trials: readonly Trial[], owned: readonly TrainingRun[]): { current: Map<number, TrainingRun>; stale: TrainingRun[] } {
  const current = new Map<number, TrainingRun>();
  const stale: TrainingRun[] = [];
  for (const run of owned) {
    const n = trialOf(run, sweep);
    if (n === undefined) continue;
    const trial = trials[n];
    if (trial && desiredTrialRun(sweep, trial).metadata.name === run.metadata.name) current.set(n, run);
    else stale.push(run);
  }
  return { current, stale };
}

/** The trials to start now: the lowest-numbered ones without a run, as many as parallelism leaves room for. */
export function trialsToStart(trials: readonly Trial[], runs: ReadonlyMap<number, TrainingRun>, parallelism: number): Trial[] {
  const running = [...runs.values()].filter((r) => !runFinished(r)).length;
  const room = Math.max(0, parallelism - running);
  return trials.filter((t) => !runs.has(t.trial)).slice(0, room);
}

/** A run that finished its current spec (its status describes this generation). */
export function runFinished(run: TrainingRun): boolean {
  const s = run.status;
  return (s?.phase === 'Succeeded' || s?.phase === 'Failed') && s.observedGeneration === run.metadata.generation;
}

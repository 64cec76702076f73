import { API_VERSION } from '../../shared/api/common.js';
import { TRAINING_RUN_KIND, type TrainingRun } from '../../shared/api/training-run.js';
import type { TrainingSweep } from '../../shared/api/training-sweep.js';
import { Labels, MANAGED_BY, ownerReference } from '../shared/labels.js';
import { childName } from '../shared/names.js';
import { trialSpec, type Trial } from './trials.js';

/**
 * A sweep's trials → the TrainingRuns it owns. Pure. A trial's run is named `<sweep>-<trial>`,
 * so a restarted operator finds the runs it made; it carries the sweep's name and the trial
 * number as labels (its ModelVersion inherits the sweep label, which is how that version is born
 * not eligible for serving) and the sweep as controlling owner, so deleting the sweep deletes
 * its runs (never their ModelVersions: the registry outlives both).
 */

export function trialRunName(sweepName: string, trial: number): string {
  return childName(sweepName, String(trial));
}

export function desiredTrialRun(sweep: TrainingSweep, trial: Trial): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: TRAINING_RUN_KIND,
    metadata: {
      name: trialRunName(sweep.metadata.name, trial.trial),
      ...(sweep.metadata.namespace ? { namespace: sweep.metadata.namespace } : {}),
      labels: {
        [Labels.managedBy]: MANAGED_BY,
        [Labels.partOf]: 'kennel',
        [Labels.trainingSweep]: sweep.metadata.name,
        [Labels.sweepTrial]: String(trial.trial),
      },
      ownerReferences: [ownerReference(sweep)],
    },
    spec: trialSpec(sweep.spec.template, trial.parameters),
  };
}

/** The trial number of a run this sweep owns, or undefined for any other run. */
export function trialOf(run: TrainingRun, sweep: TrainingSweep): number | undefined {
  const owned = run.metadata.ownerReferences?.some((o) => (o as { uid?: string }).uid === sweep.metadata.uid);
  const label = run.metadata.labels?.[Labels.trainingSweep];
  const n = Number(run.metadata.labels?.[Labels.sweepTrial]);
  return owned && label === sweep.metadata.name && Number.isInteger(n) && n >= 0 ? n : undefined;
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

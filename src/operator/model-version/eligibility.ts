import type { ModelVersion } from '../../shared/api/model-version.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import { Annotations, Labels } from '../shared/labels.js';

/**
 * Whether an InferenceService that follows a model may serve a version of it. A version is
 * eligible unless its annotation `kennel.dev/serving-eligible` says "false": the trials of a
 * TrainingSweep are registered that way (they are born not eligible, from their run's sweep
 * label), and the sweep turns its best trial's to "true" once every trial has finished. An
 * annotation, not a spec field (the spec is immutable) nor status (the ModelVersion controller
 * owns it): it is metadata about the registry entry that another controller, or a person with
 * `kubectl annotate`, may set. A pinned `modelVersion` ignores it: naming a version is a choice.
 */

export function servingEligible(mv: Pick<ModelVersion, 'metadata'>): boolean {
  return mv.metadata.annotations?.[Annotations.servingEligible] !== 'false';
}

/** The annotations a run's new ModelVersion is born with: not eligible when the run is a sweep's trial. */
export function bornEligibility(run: Pick<TrainingRun, 'metadata'>): Record<string, string> {
  const sweep = run.metadata.labels?.[Labels.trainingSweep];
  if (!sweep) return {};
  return {
    [Annotations.servingEligible]: 'false',
    [Annotations.servingEligibleReason]: `a trial of TrainingSweep ${sweep}: served only if the sweep picks it as its best`,
  };
}

/** The merge patch that marks the best trial's version eligible. */
export function winnerPatch(sweepName: string, detail: string): { metadata: { annotations: Record<string, string> } } {
  return {
    metadata: {
      annotations: {
        [Annotations.servingEligible]: 'true',
        [Annotations.servingEligibleReason]: `the best trial of TrainingSweep ${sweepName} (${detail})`,
      },
    },
  };
}

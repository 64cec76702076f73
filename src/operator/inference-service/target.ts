import type { FailedRollout, InferenceService } from '../../shared/api/inference-service.js';
import { InferenceServiceReasons as R } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import { servingEligible } from '../model-version/eligibility.js';

/**
 * Which ModelVersion an InferenceService should serve: the pinned one, or the newest version of
 * the followed model that passed its gate, is eligible for serving (model-version/eligibility.ts:
 * not a TrainingSweep trial other than the sweep's best) and was not rolled back here. Pure.
 */

export type TargetResult =
  | { ok: true; modelVersion: ModelVersion }
  | { ok: false; reason: string; message: string; terminal: boolean };

/** True when `name` was rolled back here and must not be retried: always when following, for a pin until the spec changes. */
export function isBlocked(failed: readonly FailedRollout[] | undefined, name: string, isvc: Pick<InferenceService, 'spec' | 'metadata'>): boolean {
  const entry = failed?.find((f) => f.modelVersion === name);
  if (!entry) return false;
  if (isvc.spec.modelVersion === name) return entry.generation >= (isvc.metadata.generation ?? 0);
  return true;
}

export function selectTarget(isvc: InferenceService, versions: readonly ModelVersion[]): TargetResult {
  const failed = isvc.status?.failedRollouts;
  const pinned = isvc.spec.modelVersion;
  if (pinned !== undefined) {
    const mv = versions.find((v) => v.metadata.name === pinned);
    if (!mv) return { ok: false, reason: R.ModelVersionNotFound, message: `ModelVersion ${pinned} does not exist`, terminal: false };
    if (!mv.status?.gate) return { ok: false, reason: R.NoEligibleVersion, message: `waiting for ${pinned}'s evaluation gate`, terminal: false };
    if (!mv.status.gate.passed) {
      return { ok: false, reason: R.ModelVersionRejected, message: `${pinned} failed its evaluation gate and is never served`, terminal: true };
    }
    if (isBlocked(failed, pinned, isvc)) {
      return { ok: false, reason: R.RolledBack, message: `${pinned} was rolled back here; change the spec to retry it`, terminal: true };
    }
    return { ok: true, modelVersion: mv };
  }
  const model = isvc.spec.model;
  let best: ModelVersion | undefined;
  let notEligible = 0;
  for (const v of versions) {
    if (v.spec.model !== model || v.status?.gate?.passed !== true || isBlocked(failed, v.metadata.name, isvc)) continue;
    if (!servingEligible(v)) {
      notEligible++;
      continue;
    }
    if (!best || v.spec.version > best.spec.version) best = v;
  }
  if (!best) {
    const message =
      notEligible > 0
        ? `no ModelVersion of ${model ?? '?'} is eligible yet: ${notEligible} passed their gate but are marked not eligible for serving (kennel.dev/serving-eligible: "false", e.g. trials a TrainingSweep has not picked as its best)`
        : `no ModelVersion of ${model ?? '?'} has passed its gate yet`;
    return { ok: false, reason: R.NoEligibleVersion, message, terminal: false };
  }
  return { ok: true, modelVersion: best };
}

import type { InferenceServiceStatus } from '../../shared/api/inference-service.js';
import { ModelVersionReasons, type ModelVersion } from '../../shared/api/model-version.js';
import type { ReconcilerDeps } from '../deps.js';
import { Resources } from '../kube/resources.js';
import type { Stored } from '../runtime/kind-cache.js';
import type { ObjectReconciler } from '../runtime/object-reconciler.js';
import { decideGate, findChampion } from './gate.js';
import { computeModelVersionStatus, ModelVersionWarningPhases } from './status.js';

/** InferenceServices whose status names `mvName` as stable or canary, sorted. */
export function servingByOf(isvcs: readonly Stored<InferenceServiceStatus>[], mvName: string): string[] {
  return isvcs
    .filter((i) => i.status?.currentModelVersion === mvName || i.status?.canary?.modelVersion === mvName)
    .map((i) => i.metadata?.name ?? '')
    .sort();
}

/**
 * The ModelVersion controller: decide the evaluation gate once (thresholds from the version's
 * spec, defaults from the operator, the champion = the version of the same model now serving),
 * and keep the phase current (Passed → Serving → Retired) from the InferenceServices that serve
 * it. It owns no children and writes only /status; the spec is immutable.
 */
export function modelVersionReconciler(deps: ReconcilerDeps): ObjectReconciler<ModelVersion> {
  const { caches, clock, config } = deps;
  return {
    cache: caches.modelVersions,
    resource: Resources.modelVersion,
    reasons: ModelVersionReasons,
    warningPhases: ModelVersionWarningPhases,
    statusLogFields: (status) => ({ passed: status.gate?.passed }),
    async reconcile(mv, { namespace }) {
      const now = new Date(clock.now());
      const champion = mv.status?.gate ? undefined : findChampion(mv, caches.modelVersions.valid(namespace));
      const gate = decideGate(mv, { defaults: { minAccuracy: config.gateMinAccuracy }, ...(champion ? { champion } : {}), now });
      const servingBy = servingByOf(caches.inferenceServices.list(namespace), mv.metadata.name);
      return { status: computeModelVersionStatus(mv, { gate, servingBy, now }) };
    },
  };
}

import type { InferenceServiceStatus } from '../../shared/api/inference-service.js';
import type { ModelVersion, ModelVersionStatus } from '../../shared/api/model-version.js';
import { describeErrors, parseModelVersion } from '../../shared/api/parse.js';
import { TerminalError } from '../../shared/errors.js';
import type { ReconcilerDeps } from '../deps.js';
import type { KubeObject } from '../kube/client.js';
import { Resources } from '../kube/resources.js';
import type { Reconcile, ReconcileContext, Request } from '../runtime/controller.js';
import { mergeConditions, statusChanged, summaryConditions } from '../shared/conditions.js';
import { decideGate, findChampion } from './gate.js';
import { computeModelVersionStatus, modelVersionPhaseEvent } from './status.js';

const INVALID_SPEC = 'InvalidSpec';

/** InferenceServices of `namespace` whose status names `mvName` as stable or canary. */
export function servingBy(isvcs: readonly KubeObject[], mvName: string): string[] {
  return isvcs
    .filter((i) => {
      const s = (i as { status?: InferenceServiceStatus }).status;
      return s?.currentModelVersion === mvName || s?.canary?.modelVersion === mvName;
    })
    .map((i) => i.metadata?.name ?? '')
    .sort();
}

/**
 * The ModelVersion controller's reconcile: decide the evaluation gate once (thresholds from the
 * version's spec, defaults from the operator, the champion = the version of the same model now
 * serving), and keep the phase current (Passed → Serving → Retired) from the InferenceServices
 * that serve it. Writes only /status; the spec is immutable.
 */
export function modelVersionReconciler(deps: ReconcilerDeps): Reconcile {
  const { kube, caches, events, clock, config } = deps;

  async function writeStatus(raw: KubeObject, before: ModelVersionStatus | undefined, after: ModelVersionStatus, ctx: ReconcileContext): Promise<void> {
    if (!statusChanged(before, after)) return;
    await kube.replaceStatus(Resources.modelVersion, { ...raw, status: after });
    ctx.logger.info({ phase: after.phase, passed: after.gate?.passed }, 'status updated');
    const event = modelVersionPhaseEvent(before, after);
    if (event) await events.record(raw, event.type, event.reason, event.message);
  }

  return async (req: Request, ctx: ReconcileContext) => {
    const raw = caches.modelVersions.get(req.namespace, req.name);
    if (!raw || raw.metadata?.deletionTimestamp) return;
    const previous = (raw as { status?: ModelVersionStatus }).status;
    const now = new Date(clock.now());
    const parsed = parseModelVersion(raw);
    if (!parsed.ok) {
      const message = `invalid ModelVersion: ${describeErrors(parsed.errors)}`;
      const generation = raw.metadata?.generation;
      const status: ModelVersionStatus = {
        ...previous,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        conditions: mergeConditions(
          previous?.conditions,
          summaryConditions({ ready: { status: 'False', reason: INVALID_SPEC, message }, stalled: { reason: INVALID_SPEC, message } }),
          { now, generation },
        ),
      };
      await writeStatus(raw, previous, status, ctx);
      throw new TerminalError(INVALID_SPEC, message);
    }
    const mv = parsed.value;
    const siblings = caches.modelVersions.list(req.namespace) as unknown as ModelVersion[];
    const champion = mv.status?.gate ? undefined : findChampion(mv, siblings.filter((s) => s.spec && s.metadata));
    const gate = decideGate(mv, { defaults: { minAccuracy: config.gateMinAccuracy }, ...(champion ? { champion } : {}), now });
    const status = computeModelVersionStatus(mv, { gate, servingBy: servingBy(caches.inferenceServices.list(req.namespace), mv.metadata.name), now });
    await writeStatus(raw, previous, status, ctx);
  };
}

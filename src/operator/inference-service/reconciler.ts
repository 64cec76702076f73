import { InferenceServiceReasons as R, type InferenceService } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import type { ReconcilerDeps } from '../deps.js';
import { REPLICAS_FIELD_MANAGER, type KubeObject } from '../kube/client.js';
import { Resources, type ResourceRef } from '../kube/resources.js';
import type { RollbackReason } from '../metrics.js';
import type { ObjectContext, ObjectReconciler } from '../runtime/object-reconciler.js';
import { Labels } from '../shared/labels.js';
import { servingDeploymentName } from '../shared/names.js';
import type { DeploymentWire } from '../shared/wire.js';
import { forwardedEnv } from '../shared/worker-env.js';
import { judgeAnalysis, type AnalysisResult } from './analysis.js';
import { createCanaryAnalyzer } from './canary-analyzer.js';
import { deploymentCheckpointStore } from './canary-checkpoints.js';
import { createLiveAndRetraining } from './live-and-retraining.js';
import { desiredServingObjects, monitoringEnabled, type ServingPlan } from './desired.js';
import { clockWait } from './clock-wait.js';
import { analysisWindowMs, decideRollout, type RolloutDecision, type TrackObservation } from './rollout.js';
import { computeInferenceServiceStatus, InferenceServiceWarningPhases, type PodMonitoringState } from './status.js';
import { selectTarget } from './target.js';

/** What the canary of the previous status shows: its readiness and, once ready, its analysis. */
interface CanaryObservation {
  canary?: TrackObservation;
  analysis?: AnalysisResult;
}

/**
 * The InferenceService controller: pick the version (newest passing, or pinned) → run the pure
 * rollout state machine on the previous status, the canary Deployment's readiness and the canary
 * pods' own metrics → server-side apply the Deployments (stable, canary), the Service, the PDB,
 * the HPA when autoscaling and the PodMonitoring when its CRD is installed (a condition says when
 * it is not) → delete Deployments of versions no longer served → status (history, canary, Ready
 * only when the serving pods are ready), and the rollout's Event once it is written.
 */
export function inferenceServiceReconciler(deps: ReconcilerDeps): ObjectReconciler<InferenceService> {
  const { kube, caches, clock, config, discovery, metrics } = deps;
  const podEnv = forwardedEnv(deps.podEnv);
  const checkpoints = deploymentCheckpointStore({ kube, deployments: caches.deployments, logger: deps.logger });
  const analyzer = createCanaryAnalyzer({ clock, logger: deps.logger, store: checkpoints });
  const liveLoop = createLiveAndRetraining(deps);

  const readyOf = (namespace: string, name: string): number => caches.deployments.get(namespace, name)?.status?.readyReplicas ?? 0;
  /** The replica count of the Deployment serving `modelVersion` (under autoscaling, the HPA's); undefined while there is none. */
  const replicasOf = (isvc: InferenceService, modelVersion: string | undefined): number | undefined =>
    modelVersion ? caches.deployments.get(isvc.metadata.namespace ?? '', servingDeploymentName(isvc.metadata.name, modelVersion))?.spec?.replicas : undefined;

  async function observeCanary(isvc: InferenceService, byName: ReadonlyMap<string, ModelVersion>, namespace: string): Promise<CanaryObservation> {
    const prevCanary = isvc.status?.canary;
    if (!prevCanary) return {};
    const canary = { modelVersion: prevCanary.modelVersion, readyReplicas: readyOf(namespace, servingDeploymentName(isvc.metadata.name, prevCanary.modelVersion)) };
    const spec = isvc.spec.rollout;
    if (spec?.strategy !== 'Canary' || !spec.analysis || !prevCanary.readyAt) return { canary };
    const pods = caches.pods
      .list(namespace)
      .filter((p) => p.metadata?.labels?.[Labels.inferenceService] === isvc.metadata.name && p.metadata.labels[Labels.modelVersion] === prevCanary.modelVersion);
    const key = { service: `${namespace}/${isvc.metadata.name}`, modelVersion: prevCanary.modelVersion, startedAt: prevCanary.startedAt };
    const sample = await analyzer.measure(key, pods, analysisWindowMs(isvc.spec));
    const baseline = byName.get(prevCanary.modelVersion)?.spec.metrics.meanConfidence;
    return { canary, analysis: judgeAnalysis(spec.analysis, sample, baseline !== undefined ? { meanConfidence: baseline } : {}) };
  }

  async function applyOrDelete(present: KubeObject | undefined, r: ResourceRef, namespace: string, name: string): Promise<void> {
    if (present) {
      await kube.apply(r, present);
      return;
    }
    if (await kube.get(r, namespace, name)) await kube.delete(r, namespace, name);
  }

  /**
   * A serving Deployment: everything under the operator's field manager except `spec.replicas`,
   * which has a field manager of its own (REPLICAS_FIELD_MANAGER). A Deployment rendered without
   * a count (the stable one under autoscaling) keeps the count it has: the HPA's, or the one a
   * promoted canary was given. The count is applied first when the Deployment exists (so the
   * other manager letting go of it never leaves it unowned) and after creating it otherwise.
   */
  async function applyDeployment(d: DeploymentWire, namespace: string): Promise<void> {
    const { replicas, ...spec } = d.spec ?? ({} as NonNullable<DeploymentWire['spec']>);
    const count = replicas === undefined ? undefined : { apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata?.name, namespace }, spec: { replicas } };
    const exists = caches.deployments.get(namespace, d.metadata?.name ?? '') !== undefined;
    if (count && exists) await kube.apply(Resources.deployment, count, { fieldManager: REPLICAS_FIELD_MANAGER });
    await kube.apply(Resources.deployment, exists ? { ...d, spec } : d);
    if (count && !exists) await kube.apply(Resources.deployment, count, { fieldManager: REPLICAS_FIELD_MANAGER });
  }

  /** Applies what serves `plan` and deletes the Deployments of versions no longer served; whether PodMonitoring is available. */
  async function applyServing(isvc: InferenceService, plan: ServingPlan, ctx: ObjectContext): Promise<boolean> {
    const ns = ctx.namespace;
    const podMonitoringAvailable = await discovery.has(Resources.podMonitoring);
    const objects = desiredServingObjects(isvc, plan, {
      image: config.workerImage,
      ...(config.serviceAccount ? { serviceAccountName: config.serviceAccount } : {}),
      env: podEnv,
      podMonitoringAvailable,
    });
    for (const d of objects.deployments) await applyDeployment(d, ns);
    await kube.apply(Resources.service, objects.service);
    await kube.apply(Resources.pdb, objects.pdb);
    await applyOrDelete(objects.hpa, Resources.hpa, ns, isvc.metadata.name);
    if (podMonitoringAvailable) await applyOrDelete(objects.podMonitoring, Resources.podMonitoring, ns, isvc.metadata.name);

    // Deployments of versions no longer served (a finished or rolled-back rollout) go away.
    const wanted = new Set(objects.deployments.map((d) => d.metadata?.name));
    for (const d of caches.deployments.list(ns)) {
      const name = d.metadata?.name ?? '';
      if (d.metadata?.labels?.[Labels.inferenceService] !== isvc.metadata.name || wanted.has(name)) continue;
      if (!d.metadata?.ownerReferences?.some((o) => o.uid === isvc.metadata.uid)) continue;
      await kube.delete(Resources.deployment, ns, name);
      ctx.logger.info({ deployment: name }, 'deployment of a version no longer served deleted');
    }
    return podMonitoringAvailable;
  }

  /**
   * Once the status is settled: the rollout's metrics when the status carrying its decision was
   * written, and the canary's measurements forgotten when the rollout ended (a promoted
   * canary's checkpoints are removed from its Deployment, which now serves as the stable one).
   */
  function settle(namespace: string, isvc: InferenceService, decision: RolloutDecision, written: boolean): void {
    const event = decision.event;
    if (written && event) {
      if (decision.action === 'Start' || decision.action === 'Restart') metrics.rolloutStarted();
      if (decision.action === 'Finalize') metrics.rolloutCompleted();
      if (decision.action === 'Rollback') metrics.rolledBack((event.reason === R.ProgressDeadlineExceeded ? 'ProgressDeadlineExceeded' : 'AnalysisFailed') satisfies RollbackReason);
    }
    if (decision.action === 'Rollback' || decision.action === 'Finalize' || decision.action === 'Abort') {
      analyzer.forget(`${namespace}/${isvc.metadata.name}`);
    }
    const promoted = isvc.status?.canary;
    if (written && decision.action === 'Finalize' && promoted) {
      const key = { service: `${namespace}/${isvc.metadata.name}`, modelVersion: promoted.modelVersion, startedAt: promoted.startedAt };
      checkpoints.clear(key).catch((err: unknown) => deps.logger.warn({ err, ...key }, 'canary analysis checkpoints not removed'));
    }
  }

  return {
    cache: caches.inferenceServices,
    resource: Resources.inferenceService,
    reasons: R,
    warningPhases: InferenceServiceWarningPhases,
    statusLogFields: (status) => ({ current: status.currentModelVersion, canary: status.canary?.modelVersion }),
    forget: (request) => {
      analyzer.forget(`${request.namespace}/${request.name}`);
      liveLoop.forget(`${request.namespace}/${request.name}`);
    },
    async reconcile(isvc, ctx) {
      const ns = ctx.namespace;
      const now = new Date(clock.now());
      const versions = caches.modelVersions.valid(ns);
      const byName = new Map(versions.map((v) => [v.metadata.name, v]));
      const target = selectTarget(isvc, versions);
      const observed = await observeCanary(isvc, byName, ns);
      const decision = decideRollout({
        isvc,
        ...(target.ok ? { target: { name: target.modelVersion.metadata.name, version: target.modelVersion.spec.version } } : {}),
        ...observed,
        ...optional('stableReplicas', replicasOf(isvc, isvc.status?.currentModelVersion)),
        now,
      });
      const state = decision.state;
      const stableReplicas = replicasOf(isvc, state.currentModelVersion);
      const plan: ServingPlan = { ...optional('stableReplicas', stableReplicas) };
      const stable = state.currentModelVersion ? byName.get(state.currentModelVersion) : undefined;
      if (stable) plan.stable = stable;
      const canaryMv = state.canary ? byName.get(state.canary.modelVersion) : undefined;
      if (state.canary && canaryMv) plan.canary = { modelVersion: canaryMv, state: state.canary };
      const podMonitoringAvailable = await applyServing(isvc, plan, ctx);

      const podMonitoring: PodMonitoringState = !monitoringEnabled(isvc) ? 'Disabled' : podMonitoringAvailable ? 'Created' : 'Unavailable';
      const stableName = state.currentModelVersion ? servingDeploymentName(isvc.metadata.name, state.currentModelVersion) : undefined;
      const status = computeInferenceServiceStatus(isvc, {
        decision,
        target,
        stableReadyReplicas: stableName ? readyOf(ns, stableName) : 0,
        ...(state.canary ? { canaryReadyReplicas: readyOf(ns, servingDeploymentName(isvc.metadata.name, state.canary.modelVersion)) } : {}),
        ...optional('stableReplicas', stableReplicas),
        podMonitoring,
        now,
      });
      const live = await liveLoop.step(isvc, status, byName, ctx, now);
      if (live.live) status.live = live.live;
      if (live.retraining) status.retraining = live.retraining;
      const rolloutWait = clockWait(isvc, decision, status, now);
      const requeueAfterMs = rolloutWait === undefined ? live.requeueAfterMs : Math.min(rolloutWait, live.requeueAfterMs ?? Infinity);
      return {
        status,
        events: [...(decision.event ? [decision.event] : []), ...live.events],
        afterStatus: (written) => settle(ns, isvc, decision, written),
        ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
        ...(!target.ok && target.terminal && !state.currentModelVersion ? { terminal: { reason: target.reason, message: target.message } } : {}),
      };
    },
  };
}

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

import { InferenceServiceReasons as R, type InferenceService, type InferenceServiceStatus } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import { describeErrors, parseInferenceService } from '../../shared/api/parse.js';
import { TerminalError } from '../../shared/errors.js';
import type { ReconcilerDeps } from '../deps.js';
import type { KubeObject } from '../kube/client.js';
import { Resources } from '../kube/resources.js';
import type { RollbackReason } from '../metrics.js';
import type { Reconcile, ReconcileContext, Request, Result } from '../runtime/controller.js';
import { mergeConditions, statusChanged, summaryConditions } from '../shared/conditions.js';
import { Labels } from '../shared/labels.js';
import { servingDeploymentName } from '../shared/names.js';
import type { DeploymentWire } from '../shared/wire.js';
import { forwardedEnv } from '../shared/worker-env.js';
import { judgeAnalysis, type AnalysisResult } from './analysis.js';
import { createCanaryAnalyzer } from './canary-analyzer.js';
import { desiredServingObjects, monitoringEnabled, type ServingPlan } from './desired.js';
import { analysisWindowMs, decideRollout, DEFAULT_PROGRESS_DEADLINE_SECONDS, type TrackObservation } from './rollout.js';
import { computeInferenceServiceStatus, inferenceServicePhaseEvent, type PodMonitoringState } from './status.js';
import { selectTarget } from './target.js';

/**
 * The InferenceService controller's reconcile: pick the version (newest passing, or pinned) →
 * run the pure rollout state machine on the previous status, the canary Deployment's readiness
 * and the canary pods' own metrics → server-side apply the Deployments (stable, canary), the
 * Service, the PDB, the HPA when autoscaling and the PodMonitoring when its CRD is installed
 * (a condition says when it is not) → delete Deployments of versions no longer served → write
 * status (history, canary, Ready only when the serving pods are ready) → Events.
 */
export function inferenceServiceReconciler(deps: ReconcilerDeps): Reconcile {
  const { kube, caches, events, clock, config, discovery, metrics } = deps;
  const podEnv = forwardedEnv(deps.podEnv);
  const analyzer = createCanaryAnalyzer({ clock, logger: deps.logger });

  const readyOf = (namespace: string, name: string): number => {
    const d = caches.deployments.get(namespace, name) as DeploymentWire | undefined;
    return d?.status?.readyReplicas ?? 0;
  };

  async function writeStatus(raw: KubeObject, before: InferenceServiceStatus | undefined, after: InferenceServiceStatus, ctx: ReconcileContext): Promise<boolean> {
    if (!statusChanged(before, after)) return false;
    await kube.replaceStatus(Resources.inferenceService, { ...raw, status: after });
    ctx.logger.info({ phase: after.phase, current: after.currentModelVersion, canary: after.canary?.modelVersion }, 'status updated');
    const event = inferenceServicePhaseEvent(before, after);
    if (event) await events.record(raw, event.type, event.reason, event.message);
    return true;
  }

  async function applyOrDelete(present: KubeObject | undefined, r: typeof Resources.hpa, namespace: string, name: string): Promise<void> {
    if (present) {
      await kube.apply(r, present);
      return;
    }
    if (await kube.get(r, namespace, name)) await kube.delete(r, namespace, name);
  }

  return async (req: Request, ctx: ReconcileContext): Promise<Result | void> => {
    const raw = caches.inferenceServices.get(req.namespace, req.name);
    if (!raw || raw.metadata?.deletionTimestamp) {
      analyzer.forget(`${req.namespace}/${req.name}`);
      return;
    }
    const previous = (raw as { status?: InferenceServiceStatus }).status;
    const now = new Date(clock.now());
    const parsed = parseInferenceService(raw);
    if (!parsed.ok) {
      const message = `invalid InferenceService: ${describeErrors(parsed.errors)}`;
      const generation = raw.metadata?.generation;
      await writeStatus(
        raw,
        previous,
        {
          ...previous,
          ...(generation !== undefined ? { observedGeneration: generation } : {}),
          conditions: mergeConditions(
            previous?.conditions,
            summaryConditions({ ready: { status: 'False', reason: R.InvalidSpec, message }, stalled: { reason: R.InvalidSpec, message } }),
            { now, generation },
          ),
        },
        ctx,
      );
      throw new TerminalError(R.InvalidSpec, message);
    }
    const isvc: InferenceService = parsed.value;
    const ns = req.namespace;
    const versions = (caches.modelVersions.list(ns) as unknown as ModelVersion[]).filter((v) => v.spec && v.metadata);
    const byName = new Map(versions.map((v) => [v.metadata.name, v]));
    const target = selectTarget(isvc, versions);

    // Observe the canary of the previous status: its readiness and, once ready, its metrics.
    const prevCanary = previous?.canary;
    let canaryObs: TrackObservation | undefined;
    let analysis: AnalysisResult | undefined;
    if (prevCanary) {
      const depName = servingDeploymentName(isvc.metadata.name, prevCanary.modelVersion);
      canaryObs = { modelVersion: prevCanary.modelVersion, readyReplicas: readyOf(ns, depName) };
      const spec = isvc.spec.rollout;
      if (spec?.strategy === 'Canary' && spec.analysis && prevCanary.readyAt) {
        const pods = caches.pods
          .list(ns)
          .filter((p) => p.metadata?.labels?.[Labels.inferenceService] === isvc.metadata.name && p.metadata.labels[Labels.modelVersion] === prevCanary.modelVersion);
        const sample = await analyzer.measure(`${ns}/${isvc.metadata.name}/${prevCanary.modelVersion}`, pods, analysisWindowMs(isvc.spec));
        const baseline = byName.get(prevCanary.modelVersion)?.spec.metrics.meanConfidence;
        analysis = judgeAnalysis(spec.analysis, sample, baseline !== undefined ? { meanConfidence: baseline } : {});
      }
    }

    const decision = decideRollout({
      isvc,
      ...(target.ok ? { target: { name: target.modelVersion.metadata.name, version: target.modelVersion.spec.version } } : {}),
      ...(canaryObs ? { canary: canaryObs } : {}),
      ...(analysis ? { analysis } : {}),
      now,
    });
    const state = decision.state;
    const plan: ServingPlan = {};
    const stable = state.currentModelVersion ? byName.get(state.currentModelVersion) : undefined;
    if (stable) plan.stable = stable;
    const canaryMv = state.canary ? byName.get(state.canary.modelVersion) : undefined;
    if (state.canary && canaryMv) plan.canary = { modelVersion: canaryMv, state: state.canary };

    const podMonitoringAvailable = await discovery.has(Resources.podMonitoring);
    const objects = desiredServingObjects(isvc, plan, {
      image: config.workerImage,
      ...(config.serviceAccount ? { serviceAccountName: config.serviceAccount } : {}),
      env: podEnv,
      podMonitoringAvailable,
    });
    for (const d of objects.deployments) await kube.apply(Resources.deployment, d as unknown as KubeObject);
    await kube.apply(Resources.service, objects.service as unknown as KubeObject);
    await kube.apply(Resources.pdb, objects.pdb as unknown as KubeObject);
    await applyOrDelete(objects.hpa as unknown as KubeObject | undefined, Resources.hpa, ns, isvc.metadata.name);
    if (podMonitoringAvailable) await applyOrDelete(objects.podMonitoring as KubeObject | undefined, Resources.podMonitoring, ns, isvc.metadata.name);

    // Deployments of versions no longer served (a finished or rolled-back rollout) go away.
    const wanted = new Set(objects.deployments.map((d) => d.metadata?.name));
    for (const d of caches.deployments.list(ns)) {
      const name = d.metadata?.name ?? '';
      if (d.metadata?.labels?.[Labels.inferenceService] !== isvc.metadata.name || wanted.has(name)) continue;
      if (!d.metadata?.ownerReferences?.some((o) => o.uid === isvc.metadata.uid)) continue;
      await kube.delete(Resources.deployment, ns, name);
      ctx.logger.info({ deployment: name }, 'deployment of a version no longer served deleted');
    }

    const podMonitoring: PodMonitoringState = !monitoringEnabled(isvc) ? 'Disabled' : podMonitoringAvailable ? 'Created' : 'Unavailable';
    const stableName = state.currentModelVersion ? servingDeploymentName(isvc.metadata.name, state.currentModelVersion) : undefined;
    const status = computeInferenceServiceStatus(isvc, {
      decision,
      target,
      stableReadyReplicas: stableName ? readyOf(ns, stableName) : 0,
      ...(state.canary ? { canaryReadyReplicas: readyOf(ns, servingDeploymentName(isvc.metadata.name, state.canary.modelVersion)) } : {}),
      podMonitoring,
      now,
    });
    const written = await writeStatus(raw, previous, status, ctx);
    if (written && decision.event) {
      await events.record(raw, decision.event.type, decision.event.reason, decision.event.message);
      if (decision.action === 'Start' || decision.action === 'Restart') metrics.rolloutStarted();
      if (decision.action === 'Finalize') metrics.rolloutCompleted();
      if (decision.action === 'Rollback') metrics.rolledBack((decision.event.reason === R.ProgressDeadlineExceeded ? 'ProgressDeadlineExceeded' : 'AnalysisFailed') satisfies RollbackReason);
    }
    if (decision.action === 'Rollback' || decision.action === 'Finalize' || decision.action === 'Abort') analyzer.forget(`${ns}/${isvc.metadata.name}/${prevCanary?.modelVersion ?? ''}`);
    if (!target.ok && target.terminal && !state.currentModelVersion) throw new TerminalError(target.reason, target.message);

    // Wait on the clock only for what no event will announce: a step's pause or deadline, and
    // the progress deadline of a first version whose pods are not ready.
    let requeue = decision.requeueAfterMs;
    if (status.phase === 'Progressing' && !state.canary && state.currentModelVersion) {
      const since = [...state.history].reverse().find((h) => h.modelVersion === state.currentModelVersion && h.to === undefined)?.from;
      const deadlineMs = (isvc.spec.rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
      if (since) requeue = Math.min(requeue ?? Infinity, Math.max(1_000, Date.parse(since) + deadlineMs - now.getTime() + 1_000));
    }
    // A state change decided now (Deploy, Advance, Promote ...) needs no requeue: the status
    // write comes back through the informer and enqueues this key with the fresh object.
    return requeue !== undefined && Number.isFinite(requeue) ? { requeueAfterMs: Math.max(0, requeue) } : undefined;
  };
}

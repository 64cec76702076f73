import {
  InferenceServiceReasons as R,
  type InferenceService,
  type InferenceServicePhase,
  type InferenceServiceStatus,
} from '../../shared/api/inference-service.js';
import { mergeConditions, summaryConditions, type ConditionInput, type Summary } from '../shared/conditions.js';
import { serviceUrl } from './desired.js';
import { replicaPlan } from './replica-plan.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, type RolloutDecision } from './rollout.js';
import type { TargetResult } from './target.js';

/**
 * InferenceService status from the rollout decision and what the Deployments report. Pure.
 * `Ready` is True only while the serving version has all its pods ready (readiness = model
 * loaded and warmed up); `Reconciling` is True during a rollout; `Stalled` when it cannot
 * progress without a change (its version never became ready, or a pinned version is rejected).
 */

export const PodMonitoringStates = ['Created', 'Unavailable', 'Disabled'] as const;
export type PodMonitoringState = (typeof PodMonitoringStates)[number];

export const POD_MONITORING_CONDITION = 'PodMonitoring';

/** Phases announced by a Warning Event. */
export const InferenceServiceWarningPhases: readonly InferenceServicePhase[] = ['Degraded'];

export interface ServingObservation {
  decision: RolloutDecision;
  target: TargetResult;
  /** Ready pods of the Deployment of `decision.state.currentModelVersion` (after the decision: the new version once promoted). */
  stableReadyReplicas: number;
  /** Ready pods of the canary's Deployment. */
  canaryReadyReplicas?: number;
  /** Replica count of the Deployment of `decision.state.currentModelVersion` (what the HPA set, under autoscaling). */
  stableReplicas?: number;
  podMonitoring: PodMonitoringState;
  now: Date;
}

function podMonitoringCondition(state: PodMonitoringState): ConditionInput {
  const type = POD_MONITORING_CONDITION;
  if (state === 'Created') return { type, status: 'True', reason: R.PodMonitoringCreated, message: 'PodMonitoring created: Managed Prometheus scrapes /metrics' };
  if (state === 'Disabled') return { type, status: 'False', reason: R.MonitoringDisabled, message: 'spec.monitoring.enabled is false' };
  return {
    type,
    status: 'False',
    reason: R.PodMonitoringUnavailable,
    message: 'the PodMonitoring CRD (monitoring.googleapis.com/v1) is not installed; no PodMonitoring was created',
  };
}

/**
 * Milliseconds left before an unready serving version counts as failed (≤ 0: past it). The
 * clock starts at the later of when the version began serving and when Ready last went False,
 * so a version that served well and loses its pods gets a fresh deadline to recover. The
 * reconciler requeues after this when nothing else will wake it.
 */
export function unreadyDeadlineMs(
  isvc: Pick<InferenceService, 'spec' | 'status'>,
  state: Pick<RolloutDecision['state'], 'history' | 'currentModelVersion'>,
  now: Date,
): number {
  const servingSince = [...state.history].reverse().find((h) => h.modelVersion === state.currentModelVersion && h.to === undefined)?.from;
  const ready = isvc.status?.conditions?.find((c) => c.type === 'Ready');
  const unreadySince = ready?.status === 'False' ? Date.parse(ready.lastTransitionTime) : now.getTime();
  const since = Math.max(servingSince ? Date.parse(servingSince) : now.getTime(), Number.isNaN(unreadySince) ? 0 : unreadySince);
  const deadlineMs = (isvc.spec.rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
  return since + deadlineMs - now.getTime();
}

export function computeInferenceServiceStatus(isvc: InferenceService, obs: ServingObservation): InferenceServiceStatus {
  const previous = isvc.status;
  const { state } = obs.decision;
  const plan = replicaPlan(isvc.spec, state.canary, obs.stableReplicas);
  const canaryReady = state.canary ? (obs.canaryReadyReplicas ?? 0) : 0;
  const status: InferenceServiceStatus = {
    url: serviceUrl(isvc),
    replicas: plan.stable + plan.canary,
    readyReplicas: (state.currentModelVersion ? obs.stableReadyReplicas : 0) + canaryReady,
    history: state.history,
  };
  if (isvc.metadata.generation !== undefined) status.observedGeneration = isvc.metadata.generation;
  if (state.currentModelVersion) status.currentModelVersion = state.currentModelVersion;
  if (state.currentVersion !== undefined) status.currentVersion = state.currentVersion;
  if (obs.target.ok) status.targetModelVersion = obs.target.modelVersion.metadata.name;
  if (state.canary) status.canary = state.canary;
  if (state.failedRollouts.length > 0) status.failedRollouts = state.failedRollouts;

  const current = state.currentModelVersion;
  const stableReady = current !== undefined && obs.stableReadyReplicas >= Math.max(plan.stable, plan.stable === 0 ? 0 : 1);
  let phase: InferenceServicePhase;
  let summary: Summary;
  if (!current) {
    phase = 'Pending';
    const why = obs.target.ok ? { reason: obs.decision.reason, message: obs.decision.message } : { reason: obs.target.reason, message: obs.target.message };
    summary = { ready: { status: 'False', ...why } };
    if (!obs.target.ok && obs.target.terminal) summary.stalled = why;
    else summary.reconciling = why;
  } else if (!stableReady) {
    const remaining = unreadyDeadlineMs(isvc, state, obs.now);
    const deadlineMs = (isvc.spec.rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
    const late = remaining <= 0;
    const message = `${obs.stableReadyReplicas}/${plan.stable} pods of ${current} ready`;
    if (late) {
      phase = 'Degraded';
      const why = { reason: R.ProgressDeadlineExceeded, message: `${message} after ${deadlineMs / 1000}s` };
      summary = { ready: { status: 'False', ...why }, stalled: why };
    } else {
      phase = 'Progressing';
      const why = { reason: R.PodsNotReady, message };
      summary = { ready: { status: 'False', ...why }, reconciling: why };
    }
  } else {
    const last = state.history[state.history.length - 1];
    const readyWhy =
      last?.reason === 'RolledBack' && !state.canary
        ? { reason: R.RolledBack, message: `serving ${current}; ${last.modelVersion} was rolled back (${last.message})` }
        : { reason: obs.decision.action === 'Finalize' ? R.Promoted : R.Serving, message: `serving ${current} (${obs.stableReadyReplicas} pods ready)` };
    summary = { ready: { status: 'True', ...readyWhy } };
    if (state.canary) {
      phase = 'Progressing';
      summary.reconciling = { reason: obs.decision.reason, message: obs.decision.message };
    } else {
      phase = 'Ready';
    }
    if (!obs.target.ok && obs.target.terminal) summary.stalled = { reason: obs.target.reason, message: obs.target.message };
  }
  status.phase = phase;
  status.conditions = mergeConditions(previous?.conditions, [...summaryConditions(summary), podMonitoringCondition(obs.podMonitoring)], {
    now: obs.now,
    generation: isvc.metadata.generation,
  });
  return status;
}

/** ModelVersions an InferenceService serves now (stable and canary), for ModelVersion status. */
export function servedVersions(isvc: Pick<InferenceService, 'status'>): string[] {
  const out: string[] = [];
  if (isvc.status?.currentModelVersion) out.push(isvc.status.currentModelVersion);
  if (isvc.status?.canary) out.push(isvc.status.canary.modelVersion);
  return out;
}

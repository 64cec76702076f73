import type { CanaryState, CanaryStep, InferenceServiceSpec } from '../../shared/api/inference-service.js';

/**
 * How many pods each version of an InferenceService runs during a rollout. Pure. Traffic splits
 * by ready pods (one Service selects every version), so these counts are the weights.
 */

/** The steps a rollout goes through: the spec's canary steps, or one step at 100 for Rolling. */
export function effectiveSteps(spec: InferenceServiceSpec): CanaryStep[] {
  const rollout = spec.rollout;
  if (rollout?.strategy === 'Canary' && rollout.steps && rollout.steps.length > 0) return rollout.steps;
  return [{ weight: 100, pauseSeconds: 0 }];
}

/**
 * Pods the service runs: `replicas`, or under autoscaling what the HPA has set on the stable
 * Deployment (`stableReplicas`, observed), kept within min..max, and minReplicas before there is
 * one. A rollout sizes the new version by this, so promoting it never drops the capacity the
 * HPA had scaled up to.
 */
export function totalReplicas(spec: InferenceServiceSpec, stableReplicas?: number): number {
  const autoscaling = spec.autoscaling;
  if (!autoscaling) return spec.replicas ?? 1;
  return Math.min(autoscaling.maxReplicas, Math.max(autoscaling.minReplicas, stableReplicas ?? autoscaling.minReplicas));
}

/** Canary pods for a weight: proportional, at least one, at most the total. */
export function canaryReplicas(total: number, weight: number): number {
  const t = Math.max(total, 1);
  if (weight >= 100) return t;
  return Math.min(t, Math.max(1, Math.round((t * weight) / 100)));
}

/**
 * Pods per Deployment. The stable version gives up replicas only once the canary pods of the
 * current step are ready (capacity never drops during a step), and keeps all of them at
 * weight 100 until the new version takes over. `stableReplicas`: the stable Deployment's
 * replica count as observed (what the HPA set, under autoscaling).
 */
export function replicaPlan(spec: InferenceServiceSpec, canary: CanaryState | undefined, stableReplicas?: number): { stable: number; canary: number } {
  const total = totalReplicas(spec, stableReplicas);
  if (!canary) return { stable: total, canary: 0 };
  const c = canaryReplicas(total, canary.weight);
  if (canary.weight >= 100) return { stable: total, canary: c };
  const steps = effectiveSteps(spec);
  const previousWeight = canary.step > 0 ? (steps[canary.step - 1]?.weight ?? 0) : 0;
  const given = canary.readyAt ? c : previousWeight > 0 ? canaryReplicas(total, previousWeight) : 0;
  return { stable: total === 0 ? 0 : Math.max(total - given, 1), canary: c };
}

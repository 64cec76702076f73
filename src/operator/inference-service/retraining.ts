import { API_VERSION, parseDurationMs } from '../../shared/api/common.js';
import type { InferenceService, LiveQuality, RetrainingStatus } from '../../shared/api/inference-service.js';
import { TRAINING_RUN_KIND, type TrainingRun } from '../../shared/api/training-run.js';
import { Labels, MANAGED_BY, ownerReference } from '../shared/labels.js';
import { childName } from '../shared/names.js';

export const DEFAULT_RETRAINING_WINDOW = '1h';
export const DEFAULT_RETRAINING_MIN_FEEDBACK = 50;
export const DEFAULT_RETRAINING_MIN_INTERVAL = '24h';

/** The window live quality is measured over: the policy's, else one hour. */
export function liveWindowMs(isvc: Pick<InferenceService, 'spec'>): number {
  return parseDurationMs(isvc.spec.retraining?.window ?? DEFAULT_RETRAINING_WINDOW);
}

export type RetrainingDecision =
  | { readonly start: false; readonly why: string }
  | { readonly start: true; readonly run: TrainingRun; readonly status: RetrainingStatus; readonly message: string };

export interface RetrainingInput {
  readonly isvc: InferenceService;
  readonly live: LiveQuality | undefined;
  /** Phase of the policy's latest run, when it still exists. */
  readonly lastRunPhase?: string;
  readonly now: Date;
}

/**
 * The optional retraining policy (spec.retraining), decided on live quality. Pure. It starts a
 * TrainingRun from the template when the serving version's live accuracy over the window is
 * below minAccuracy on at least minFeedback pieces of feedback — and only when no rollout is in
 * progress, its previous run has finished, and minInterval has passed since that run started
 * (status.retraining.lastStartedAt, so an operator restart does not reset the interval). The
 * run's name counts up (`<service>-retrain-<n>`), so a retried create finds the run it made.
 */
export function decideRetraining(input: RetrainingInput): RetrainingDecision {
  const { isvc, live, now } = input;
  const policy = isvc.spec.retraining;
  if (!policy) return { start: false, why: 'no retraining policy' };
  const current = isvc.status?.currentModelVersion;
  if (!live || live.modelVersion !== current) return { start: false, why: 'no live measurement of the serving version yet' };
  if (isvc.status?.canary) return { start: false, why: 'a rollout is in progress' };
  const minFeedback = policy.minFeedback ?? DEFAULT_RETRAINING_MIN_FEEDBACK;
  if (live.feedback < minFeedback || live.accuracy === undefined) return { start: false, why: `${live.feedback} feedback in the window, ${minFeedback} needed for a verdict` };
  if (live.accuracy >= policy.minAccuracy) return { start: false, why: `live accuracy ${live.accuracy} is at or above ${policy.minAccuracy}` };
  const previous = isvc.status?.retraining;
  if (input.lastRunPhase !== undefined && input.lastRunPhase !== 'Succeeded' && input.lastRunPhase !== 'Failed') {
    return { start: false, why: `retraining run ${previous?.lastTrainingRun ?? ''} has not finished` };
  }
  const intervalMs = parseDurationMs(policy.minInterval ?? DEFAULT_RETRAINING_MIN_INTERVAL);
  const last = previous?.lastStartedAt ? Date.parse(previous.lastStartedAt) : undefined;
  if (last !== undefined && now.getTime() - last < intervalMs) {
    return { start: false, why: `the last retraining run started less than ${policy.minInterval ?? DEFAULT_RETRAINING_MIN_INTERVAL} ago` };
  }
  const n = (previous?.runs ?? 0) + 1;
  const name = childName(isvc.metadata.name, `retrain-${n}`, 52);
  const message = `live accuracy of ${current} was ${live.accuracy} on ${live.feedback} feedback over ${live.windowSeconds}s, below ${policy.minAccuracy}: started TrainingRun ${name}`;
  return {
    start: true,
    run: {
      apiVersion: API_VERSION,
      kind: TRAINING_RUN_KIND,
      metadata: {
        name,
        namespace: isvc.metadata.namespace,
        labels: { [Labels.inferenceService]: isvc.metadata.name, [Labels.managedBy]: MANAGED_BY },
        ownerReferences: [ownerReference(isvc)],
      },
      spec: structuredClone(policy.template),
    },
    status: { runs: n, lastTrainingRun: name, lastStartedAt: now.toISOString(), lastReason: message },
    message,
  };
}

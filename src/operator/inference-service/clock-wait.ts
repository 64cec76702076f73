import type { InferenceService, InferenceServiceStatus } from '../../shared/api/inference-service.js';
import type { RolloutDecision } from './rollout.js';
import { unreadyDeadlineMs } from './status.js';

/** Never look again sooner than this while waiting on a deadline (a clock that is a little early). */
const MIN_WAIT_MS = 1_000;

/**
 * When to look again without an event: a step's pause or deadline (the decision's), and the
 * deadline of a serving version whose pods are not ready (Progressing, no canary). That deadline
 * is the one the status judges by ({@link unreadyDeadlineMs}: from the later of when the version
 * began serving and when Ready went False, read from the status just computed), so a
 * long-serving version that loses its pods is looked at again when its fresh deadline passes,
 * not every second. A state change decided now (Deploy, Advance, Promote ...) needs none: the
 * status write comes back through the informer and enqueues this key with the fresh object.
 */
export function clockWait(isvc: Pick<InferenceService, 'spec'>, decision: RolloutDecision, status: InferenceServiceStatus, now: Date): number | undefined {
  const { state } = decision;
  let requeue = decision.requeueAfterMs;
  if (status.phase === 'Progressing' && !state.canary && state.currentModelVersion) {
    const remaining = unreadyDeadlineMs({ spec: isvc.spec, status }, state, now);
    requeue = Math.min(requeue ?? Infinity, Math.max(MIN_WAIT_MS, remaining + MIN_WAIT_MS));
  }
  return requeue !== undefined && Number.isFinite(requeue) ? Math.max(0, requeue) : undefined;
}

import { InferenceServiceReasons as R, type InferenceService, type InferenceServiceStatus, type LiveQuality, type RetrainingStatus } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import type { ReconcilerDeps } from '../deps.js';
import { isAlreadyExists } from '../kube/errors.js';
import type { EventSpec } from '../kube/events.js';
import { Resources } from '../kube/resources.js';
import type { ObjectContext } from '../runtime/object-reconciler.js';
import { Labels } from '../shared/labels.js';
import { computeLiveQuality } from './live.js';
import { createLiveObserver } from './live-observer.js';
import { decideRetraining, liveWindowMs } from './retraining.js';

/** What the live measurement and the retraining policy add to a status write. */
export interface LiveOutcome {
  readonly live?: LiveQuality;
  readonly retraining?: RetrainingStatus;
  readonly events: readonly EventSpec[];
  /** When to measure again (the operator's live interval), while a version serves. */
  readonly requeueAfterMs?: number;
}

export interface LiveAndRetraining {
  /**
   * Measures the serving version's live quality over the window (every running serving pod's
   * metrics) and applies the retraining policy on it, creating its TrainingRun when it fires.
   * `status` is the status about to be written (its currentModelVersion is the one measured).
   */
  step(isvc: InferenceService, status: InferenceServiceStatus, byName: ReadonlyMap<string, ModelVersion>, ctx: ObjectContext, now: Date): Promise<LiveOutcome>;
  forget(key: string): void;
}

export function createLiveAndRetraining(deps: ReconcilerDeps): LiveAndRetraining {
  const { kube, caches, config, metrics } = deps;
  const observer = createLiveObserver({ clock: deps.clock, logger: deps.logger });
  const intervalMs = config.liveIntervalSeconds * 1000;

  async function measure(isvc: InferenceService, mv: ModelVersion, namespace: string, now: Date): Promise<LiveQuality | undefined> {
    const pods = caches.pods.list(namespace).filter((p) => p.metadata?.labels?.[Labels.inferenceService] === isvc.metadata.name);
    const window = await observer.measure(`${namespace}/${isvc.metadata.name}`, pods, String(mv.spec.version), liveWindowMs(isvc));
    return window ? computeLiveQuality({ mv, ...window, now }) : undefined;
  }

  return {
    async step(isvc, status, byName, ctx, now) {
      const previous = isvc.status;
      const kept = { ...(previous?.live ? { live: previous.live } : {}), ...(previous?.retraining ? { retraining: previous.retraining } : {}) };
      const serving = status.currentModelVersion ? byName.get(status.currentModelVersion) : undefined;
      if (intervalMs <= 0 || !serving || status.phase !== 'Ready') return { ...kept, events: [] };
      // Measured at most once an interval: a status write brings this key straight back, and a
      // fresh measuredAt each time would make every write cause the next.
      const last = previous?.live?.modelVersion === serving.metadata.name ? Date.parse(previous.live.measuredAt) : Number.NaN;
      const dueInMs = Number.isNaN(last) ? 0 : last + intervalMs - now.getTime();
      const live = dueInMs > 0 ? previous?.live : ((await measure(isvc, serving, ctx.namespace, now)) ?? previous?.live);
      const lastRun = previous?.retraining?.lastTrainingRun;
      const decision = decideRetraining({
        isvc: { ...isvc, status: { ...status, ...(previous?.retraining ? { retraining: previous.retraining } : {}) } },
        live,
        now,
        ...(lastRun ? { lastRunPhase: caches.trainingRuns.get(ctx.namespace, lastRun)?.status?.phase ?? 'Pending' } : {}),
      });
      const base = { ...kept, ...(live ? { live } : {}), requeueAfterMs: dueInMs > 0 ? dueInMs : intervalMs };
      if (!decision.start) {
        if (isvc.spec.retraining) ctx.logger.debug({ why: decision.why }, 'retraining policy: not now');
        return { ...base, events: [] };
      }
      try {
        await kube.create(Resources.trainingRun, decision.run);
      } catch (err) {
        // A create that succeeded before a status write that did not: the run is ours.
        if (!isAlreadyExists(err)) throw err;
      }
      metrics.retrainingStarted();
      ctx.logger.info({ trainingRun: decision.run.metadata.name, accuracy: live?.accuracy }, 'retraining policy started a TrainingRun');
      return { ...base, retraining: decision.status, events: [{ type: 'Normal', reason: R.RetrainingStarted, message: decision.message }] };
    },
    forget(key) {
      observer.forget(key);
    },
  };
}

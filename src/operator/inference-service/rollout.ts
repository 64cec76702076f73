import {
  InferenceServiceReasons as R,
  type CanaryState,
  type CanaryStep,
  type FailedRollout,
  type HistoryEntry,
  type InferenceService,
  type InferenceServiceSpec,
} from '../../shared/api/inference-service.js';
import { parseDurationMs } from '../../shared/api/common.js';
import { rfc3339 } from '../shared/wire.js';
import { DEFAULT_ANALYSIS_WINDOW, type AnalysisResult } from './analysis.js';

/**
 * The rollout state machine of an InferenceService, pure: from the previous status, the version
 * the spec asks for, what the Deployments report, the canary analysis and the clock, it decides
 * what to serve next. Every version gets its own Deployment; the stable one is never touched
 * until the new one has proven itself, so a rollback is just "stop running the new one".
 *
 *   no current ──Deploy──▶ current
 *   current ≠ target ──Start──▶ canary step 0 ──(ready, pause, analysis ok)──Advance──▶ step k …
 *     ──Promote──▶ weight 100 ──(ready)──Finalize──▶ current = target
 *   any step: pods not ready within progressDeadlineSeconds, or analysis fails ──Rollback──▶
 *     current unchanged, target remembered in failedRollouts (never retried automatically)
 *
 * Rolling is the same machine with one step at weight 100 and no analysis: the new version
 * starts beside the old at full size and takes over once all its pods are ready.
 */

export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_PAUSE_SECONDS = 60;
export const HISTORY_LIMIT = 20;
/** How soon to look again while an analysis has too little data. */
export const INCONCLUSIVE_RETRY_MS = 10_000;

export interface VersionRef {
  name: string;
  version: number;
}

/** What one version's Deployment reports. */
export interface TrackObservation {
  modelVersion: string;
  readyReplicas: number;
}

export interface RolloutInput {
  isvc: Pick<InferenceService, 'spec' | 'status' | 'metadata'>;
  /** The version the spec asks for (selectTarget); undefined when none is eligible. */
  target?: VersionRef;
  /** The canary's Deployment, when it exists. */
  canary?: TrackObservation;
  /** The canary step's analysis (judgeAnalysis over the window); undefined = no data yet. */
  analysis?: AnalysisResult;
  now: Date;
}

export const RolloutActions = ['None', 'Deploy', 'Start', 'Restart', 'WaitReady', 'Pause', 'Advance', 'Promote', 'Finalize', 'Rollback', 'Abort'] as const;
export type RolloutAction = (typeof RolloutActions)[number];

export interface RolloutState {
  currentModelVersion?: string;
  currentVersion?: number;
  canary?: CanaryState;
  history: HistoryEntry[];
  failedRollouts: FailedRollout[];
}

export interface RolloutDecision {
  action: RolloutAction;
  reason: string;
  message: string;
  state: RolloutState;
  /** Look again after this long (waiting on the clock); undefined = wait for an event. */
  requeueAfterMs?: number;
  /** An Event worth recording (a rollout began, advanced, finished or was rolled back). */
  event?: { type: 'Normal' | 'Warning'; reason: string; message: string };
}

/** The steps a rollout goes through: the spec's canary steps, or one step at 100 for Rolling. */
export function effectiveSteps(spec: InferenceServiceSpec): CanaryStep[] {
  const rollout = spec.rollout;
  if (rollout?.strategy === 'Canary' && rollout.steps && rollout.steps.length > 0) return rollout.steps;
  return [{ weight: 100, pauseSeconds: 0 }];
}

export function totalReplicas(spec: InferenceServiceSpec): number {
  return spec.replicas ?? spec.autoscaling?.minReplicas ?? 1;
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
 * weight 100 until the new version takes over.
 */
export function replicaPlan(spec: InferenceServiceSpec, canary: CanaryState | undefined): { stable: number; canary: number } {
  const total = totalReplicas(spec);
  if (!canary) return { stable: total, canary: 0 };
  const c = canaryReplicas(total, canary.weight);
  if (canary.weight >= 100) return { stable: total, canary: c };
  const steps = effectiveSteps(spec);
  const previousWeight = canary.step > 0 ? (steps[canary.step - 1]?.weight ?? 0) : 0;
  const given = canary.readyAt ? c : previousWeight > 0 ? canaryReplicas(total, previousWeight) : 0;
  return { stable: total === 0 ? 0 : Math.max(total - given, 1), canary: c };
}

export function analysisWindowMs(spec: InferenceServiceSpec): number {
  return parseDurationMs(spec.rollout?.analysis?.window ?? DEFAULT_ANALYSIS_WINDOW);
}

function pushBounded<T>(list: T[], item: T): T[] {
  return [...list, item].slice(-HISTORY_LIMIT);
}

export function decideRollout(input: RolloutInput): RolloutDecision {
  const { isvc, target, now } = input;
  const spec = isvc.spec;
  const prev = isvc.status ?? {};
  const nowIso = rfc3339(now);
  const steps = effectiveSteps(spec);
  const deadlineMs = (spec.rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
  const state: RolloutState = {
    history: [...(prev.history ?? [])],
    failedRollouts: [...(prev.failedRollouts ?? [])],
  };
  if (prev.currentModelVersion !== undefined) state.currentModelVersion = prev.currentModelVersion;
  if (prev.currentVersion !== undefined) state.currentVersion = prev.currentVersion;
  if (prev.canary) state.canary = { ...prev.canary };
  const current = state.currentModelVersion;

  const serving = (message: string): RolloutDecision => ({ action: 'None', reason: R.Serving, message, state });

  /** Ends the canary without counting it as failed (it is no longer asked for). */
  const abandon = (why: string): RolloutDecision => {
    const c = state.canary as CanaryState;
    state.history = pushBounded(state.history, {
      modelVersion: c.modelVersion,
      from: c.startedAt,
      to: nowIso,
      reason: 'RolledBack',
      message: `rollout abandoned: ${why}`,
    });
    delete state.canary;
    return {
      action: 'Abort',
      reason: R.RolledBack,
      message: `rollout of ${c.modelVersion} abandoned: ${why}`,
      state,
      event: { type: 'Normal', reason: R.RolledBack, message: `rollout of ${c.modelVersion} abandoned: ${why}` },
    };
  };

  const start = (t: VersionRef): CanaryState => ({
    modelVersion: t.name,
    step: 0,
    weight: steps[0]?.weight ?? 100,
    startedAt: nowIso,
    stepStartedAt: nowIso,
  });

  if (!target) {
    if (state.canary) return abandon('it is no longer eligible');
    return current
      ? serving(`serving ${current}; nothing newer is eligible`)
      : { action: 'None', reason: R.NoEligibleVersion, message: 'no eligible ModelVersion to serve yet', state };
  }

  if (!current) {
    state.currentModelVersion = target.name;
    state.currentVersion = target.version;
    delete state.canary;
    const reason = spec.modelVersion ? 'Pinned' : 'Initial';
    state.history = pushBounded(state.history, { modelVersion: target.name, version: target.version, from: nowIso, reason, message: `first version served: ${target.name}` });
    const message = `deploying ${target.name}`;
    return { action: 'Deploy', reason: R.Deploying, message, state, event: { type: 'Normal', reason: R.Deploying, message } };
  }

  if (target.name === current) {
    if (state.canary) return abandon(`the spec asks for ${current} again`);
    return serving(`serving ${current}`);
  }

  const describeStep = (c: CanaryState) =>
    c.step >= steps.length ? `promoting ${c.modelVersion} (weight 100%)` : `rolling out ${c.modelVersion}: step ${c.step + 1}/${steps.length}, weight ${c.weight}%`;

  if (state.canary && state.canary.modelVersion !== target.name) {
    const superseded = state.canary.modelVersion;
    abandon(`superseded by ${target.name}`);
    state.canary = start(target);
    const message = `${superseded} superseded; ${describeStep(state.canary)}`;
    return { action: 'Restart', reason: R.CanaryProgressing, message, state, requeueAfterMs: deadlineMs, event: { type: 'Normal', reason: R.CanaryProgressing, message } };
  }
  if (!state.canary) {
    state.canary = start(target);
    const message = `${describeStep(state.canary)} (serving ${current})`;
    return { action: 'Start', reason: R.CanaryProgressing, message, state, requeueAfterMs: deadlineMs, event: { type: 'Normal', reason: R.CanaryProgressing, message } };
  }

  const canary = state.canary;
  const rollback = (reason: string, why: string): RolloutDecision => {
    state.history = pushBounded(state.history, {
      modelVersion: canary.modelVersion,
      version: target.version,
      from: canary.startedAt,
      to: nowIso,
      reason: 'RolledBack',
      message: `${reason}: ${why}`,
    });
    state.failedRollouts = pushBounded(
      state.failedRollouts.filter((f) => f.modelVersion !== canary.modelVersion),
      { modelVersion: canary.modelVersion, generation: isvc.metadata.generation ?? 0, reason },
    );
    delete state.canary;
    const message = `rolled back ${canary.modelVersion} (${why}); ${current} keeps serving`;
    return { action: 'Rollback', reason: R.RolledBack, message, state, event: { type: 'Warning', reason, message } };
  };

  const plan = replicaPlan(spec, { ...canary, readyAt: canary.readyAt ?? nowIso });
  const observed = input.canary?.modelVersion === canary.modelVersion ? input.canary.readyReplicas : 0;
  const ready = plan.canary > 0 && observed >= plan.canary;
  const stepAgeMs = now.getTime() - Date.parse(canary.stepStartedAt);
  if (!ready) {
    if (stepAgeMs >= deadlineMs) {
      return rollback(R.ProgressDeadlineExceeded, `${observed}/${plan.canary} new pods ready after ${Math.round(deadlineMs / 1000)}s`);
    }
    return {
      action: 'WaitReady',
      reason: R.CanaryProgressing,
      message: `${describeStep(canary)}: ${observed}/${plan.canary} new pods ready`,
      state,
      requeueAfterMs: deadlineMs - stepAgeMs,
    };
  }
  canary.readyAt ??= nowIso;

  const finalize = (): RolloutDecision => {
    state.history = state.history.map((h) => (h.modelVersion === current && h.to === undefined ? { ...h, to: nowIso } : h));
    const reason = spec.modelVersion ? 'Pinned' : 'Promoted';
    state.history = pushBounded(state.history, {
      modelVersion: target.name,
      version: target.version,
      from: nowIso,
      reason,
      message: `replaced ${current} after ${Math.min(canary.step + 1, steps.length)} step(s)`,
    });
    state.currentModelVersion = target.name;
    state.currentVersion = target.version;
    delete state.canary;
    const message = `${target.name} promoted; it replaces ${current}`;
    return { action: 'Finalize', reason: R.Promoted, message, state, event: { type: 'Normal', reason: R.Promoted, message } };
  };

  if (canary.step >= steps.length) return finalize();

  const step = steps[canary.step] as CanaryStep;
  const pauseMs = (step.pauseSeconds ?? (spec.rollout?.strategy === 'Canary' ? DEFAULT_PAUSE_SECONDS : 0)) * 1000;
  const readyForMs = now.getTime() - Date.parse(canary.readyAt);
  if (readyForMs < pauseMs) {
    return { action: 'Pause', reason: R.CanaryPaused, message: `${describeStep(canary)}: holding for ${Math.ceil((pauseMs - readyForMs) / 1000)}s`, state, requeueAfterMs: pauseMs - readyForMs };
  }

  if (spec.rollout?.strategy === 'Canary' && spec.rollout.analysis) {
    const result = input.analysis ?? { verdict: 'Inconclusive', reasons: ['no metrics from the canary pods yet'] };
    canary.lastAnalysis = `${result.verdict}: ${result.reasons.join('; ')}`.slice(0, 1024);
    if (result.verdict === 'Fail') return rollback(R.AnalysisFailed, result.reasons.filter((r) => r.startsWith('FAIL')).join('; '));
    if (result.verdict === 'Inconclusive') {
      if (readyForMs - pauseMs >= deadlineMs) return rollback(R.AnalysisInconclusive, result.reasons.join('; '));
      return { action: 'Pause', reason: R.AnalysisInconclusive, message: `${describeStep(canary)}: ${result.reasons.join('; ')}`, state, requeueAfterMs: INCONCLUSIVE_RETRY_MS };
    }
  }

  if (canary.step + 1 < steps.length) {
    const next = steps[canary.step + 1] as CanaryStep;
    state.canary = { modelVersion: canary.modelVersion, step: canary.step + 1, weight: next.weight, startedAt: canary.startedAt, stepStartedAt: nowIso };
    if (canary.lastAnalysis) state.canary.lastAnalysis = canary.lastAnalysis;
    const message = describeStep(state.canary);
    return { action: 'Advance', reason: R.CanaryProgressing, message, state, requeueAfterMs: deadlineMs, event: { type: 'Normal', reason: R.CanaryProgressing, message } };
  }
  if (canary.weight >= 100) return finalize();
  state.canary = { modelVersion: canary.modelVersion, step: steps.length, weight: 100, startedAt: canary.startedAt, stepStartedAt: nowIso };
  if (canary.lastAnalysis) state.canary.lastAnalysis = canary.lastAnalysis;
  const message = describeStep(state.canary);
  return { action: 'Promote', reason: R.Promoting, message, state, requeueAfterMs: deadlineMs, event: { type: 'Normal', reason: R.Promoting, message } };
}

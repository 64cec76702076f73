import {
  InferenceServiceReasons as R,
  type CanaryState,
  type CanaryStep,
  type FailedRollout,
  type HistoryEntry,
  type InferenceService,
  type InferenceServiceSpec,
  type InferenceServiceStatus,
} from '../../shared/api/inference-service.js';
import { parseDurationMs } from '../../shared/api/common.js';
import type { EventSpec } from '../kube/events.js';
import { rfc3339 } from '../shared/wire.js';
import { DEFAULT_ANALYSIS_WINDOW, type AnalysisResult } from './analysis.js';
import { effectiveSteps, replicaPlan } from './replica-plan.js';

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
 *
 * One pure function per situation (nothing eligible, first version, target already serving, a
 * rollout to start, a canary waiting for its pods, a ready canary step); each takes the state and
 * returns the next state and when to look again.
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
  /** The serving (stable) Deployment's replica count as observed: what the HPA set, under autoscaling. */
  stableReplicas?: number;
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
  /** Look again after this long (waiting on the clock); undefined = wait for an event. Set in every case. */
  requeueAfterMs: number | undefined;
  /** An Event worth recording (a rollout began, advanced, finished or was rolled back). */
  event?: EventSpec;
}

export function analysisWindowMs(spec: InferenceServiceSpec): number {
  return parseDurationMs(spec.rollout?.analysis?.window ?? DEFAULT_ANALYSIS_WINDOW);
}

/** What every step of one decision shares: the spec's steps and deadline, the clock. */
interface Context {
  spec: InferenceServiceSpec;
  generation: number;
  steps: CanaryStep[];
  deadlineMs: number;
  stableReplicas: number | undefined;
  now: Date;
  nowIso: string;
}

export function decideRollout(input: RolloutInput): RolloutDecision {
  const { isvc, target } = input;
  const spec = isvc.spec;
  const ctx: Context = {
    spec,
    generation: isvc.metadata.generation ?? 0,
    steps: effectiveSteps(spec),
    deadlineMs: (spec.rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000,
    stableReplicas: input.stableReplicas,
    now: input.now,
    nowIso: rfc3339(input.now),
  };
  const state = stateOf(isvc.status);
  if (!target) return nothingEligible(state, ctx);
  if (!state.currentModelVersion) return deployFirst(state, target, ctx);
  if (target.name === state.currentModelVersion) return targetServing(state, ctx);
  if (state.canary?.modelVersion !== target.name) return startRollout(state, target, ctx);
  const observed = input.canary?.modelVersion === state.canary.modelVersion ? input.canary.readyReplicas : 0;
  const waiting = awaitCanaryPods(state, state.canary, target, observed, ctx);
  if (waiting) return waiting;
  return readyCanaryStep(state, { ...state.canary, readyAt: state.canary.readyAt ?? ctx.nowIso }, target, input.analysis, ctx);
}

/** The rollout state of the previous status (copies: the status is frozen). */
function stateOf(prev: InferenceServiceStatus | undefined): RolloutState {
  const state: RolloutState = { history: [...(prev?.history ?? [])], failedRollouts: [...(prev?.failedRollouts ?? [])] };
  if (prev?.currentModelVersion !== undefined) state.currentModelVersion = prev.currentModelVersion;
  if (prev?.currentVersion !== undefined) state.currentVersion = prev.currentVersion;
  if (prev?.canary) state.canary = { ...prev.canary };
  return state;
}

/** No version is eligible: keep serving what serves; a canary in flight is abandoned. */
function nothingEligible(state: RolloutState, ctx: Context): RolloutDecision {
  if (state.canary) return abandon(state, state.canary, 'it is no longer eligible', ctx);
  const current = state.currentModelVersion;
  if (current) return { action: 'None', reason: R.Serving, message: `serving ${current}; nothing newer is eligible`, state, requeueAfterMs: undefined };
  return { action: 'None', reason: R.NoEligibleVersion, message: 'no eligible ModelVersion to serve yet', state, requeueAfterMs: undefined };
}

/** Nothing serves yet: the first version is deployed directly, with no canary. */
function deployFirst(state: RolloutState, target: VersionRef, ctx: Context): RolloutDecision {
  const next: RolloutState = {
    ...withoutCanary(state),
    currentModelVersion: target.name,
    currentVersion: target.version,
    history: pushBounded(state.history, {
      modelVersion: target.name,
      version: target.version,
      from: ctx.nowIso,
      reason: ctx.spec.modelVersion ? 'Pinned' : 'Initial',
      message: `first version served: ${target.name}`,
    }),
  };
  const message = `deploying ${target.name}`;
  return { action: 'Deploy', reason: R.Deploying, message, state: next, requeueAfterMs: undefined, event: { type: 'Normal', reason: R.Deploying, message } };
}

/** The spec asks for the version that serves: nothing to do, or a canary of another version to abandon. */
function targetServing(state: RolloutState, ctx: Context): RolloutDecision {
  const current = state.currentModelVersion ?? '';
  if (state.canary) return abandon(state, state.canary, `the spec asks for ${current} again`, ctx);
  return { action: 'None', reason: R.Serving, message: `serving ${current}`, state, requeueAfterMs: undefined };
}

/** A newer target: its canary starts at step 0 (a canary of another version is abandoned first). */
function startRollout(state: RolloutState, target: VersionRef, ctx: Context): RolloutDecision {
  const canary: CanaryState = { modelVersion: target.name, step: 0, weight: ctx.steps[0]?.weight ?? 100, startedAt: ctx.nowIso, stepStartedAt: ctx.nowIso };
  const superseded = state.canary;
  if (superseded) {
    const next = { ...abandon(state, superseded, `superseded by ${target.name}`, ctx).state, canary };
    const message = `${superseded.modelVersion} superseded; ${describeStep(canary, ctx)}`;
    return { action: 'Restart', reason: R.CanaryProgressing, message, state: next, requeueAfterMs: ctx.deadlineMs, event: { type: 'Normal', reason: R.CanaryProgressing, message } };
  }
  const message = `${describeStep(canary, ctx)} (serving ${state.currentModelVersion ?? ''})`;
  return { action: 'Start', reason: R.CanaryProgressing, message, state: { ...state, canary }, requeueAfterMs: ctx.deadlineMs, event: { type: 'Normal', reason: R.CanaryProgressing, message } };
}

/** While the step's canary pods are not all ready: wait until the progress deadline, then roll back. Undefined once they are ready. */
function awaitCanaryPods(state: RolloutState, canary: CanaryState, target: VersionRef, observed: number, ctx: Context): RolloutDecision | undefined {
  const plan = replicaPlan(ctx.spec, { ...canary, readyAt: canary.readyAt ?? ctx.nowIso }, ctx.stableReplicas);
  if (plan.canary > 0 && observed >= plan.canary) return undefined;
  const stepAgeMs = ctx.now.getTime() - Date.parse(canary.stepStartedAt);
  if (stepAgeMs >= ctx.deadlineMs) {
    return rollback(state, canary, target, R.ProgressDeadlineExceeded, `${observed}/${plan.canary} new pods ready after ${Math.round(ctx.deadlineMs / 1000)}s`, ctx);
  }
  return {
    action: 'WaitReady',
    reason: R.CanaryProgressing,
    message: `${describeStep(canary, ctx)}: ${observed}/${plan.canary} new pods ready`,
    state,
    requeueAfterMs: ctx.deadlineMs - stepAgeMs,
  };
}

/**
 * A step whose canary pods are ready (`readyAt` set): past the last step it takes over; else it
 * holds for the step's pause, then its analysis, then the next step (or weight 100) begins.
 */
function readyCanaryStep(prev: RolloutState, canary: CanaryState & { readyAt: string }, target: VersionRef, analysis: AnalysisResult | undefined, ctx: Context): RolloutDecision {
  const state: RolloutState = { ...prev, canary };
  if (canary.step >= ctx.steps.length) return finalize(state, canary, target, ctx);
  const step = ctx.steps[canary.step] as CanaryStep;
  const pauseMs = (step.pauseSeconds ?? (ctx.spec.rollout?.strategy === 'Canary' ? DEFAULT_PAUSE_SECONDS : 0)) * 1000;
  const readyForMs = ctx.now.getTime() - Date.parse(canary.readyAt);
  if (readyForMs < pauseMs) {
    return { action: 'Pause', reason: R.CanaryPaused, message: `${describeStep(canary, ctx)}: holding for ${Math.ceil((pauseMs - readyForMs) / 1000)}s`, state, requeueAfterMs: pauseMs - readyForMs };
  }
  if (ctx.spec.rollout?.strategy === 'Canary' && ctx.spec.rollout.analysis) {
    const result = analysis ?? { verdict: 'Inconclusive', reasons: ['no metrics from the canary pods yet'] };
    canary.lastAnalysis = `${result.verdict}: ${result.reasons.join('; ')}`.slice(0, 1024);
    if (result.verdict === 'Fail') return rollback(state, canary, target, R.AnalysisFailed, result.reasons.filter((r) => r.startsWith('FAIL')).join('; '), ctx);
    if (result.verdict === 'Inconclusive') {
      if (readyForMs - pauseMs >= ctx.deadlineMs) return rollback(state, canary, target, R.AnalysisInconclusive, result.reasons.join('; '), ctx);
      return { action: 'Pause', reason: R.AnalysisInconclusive, message: `${describeStep(canary, ctx)}: ${result.reasons.join('; ')}`, state, requeueAfterMs: INCONCLUSIVE_RETRY_MS };
    }
  }
  return nextStep(state, canary, target, ctx);
}

/** The step passed: the next canary step, weight 100 after the last one below it, or the takeover. */
function nextStep(state: RolloutState, canary: CanaryState, target: VersionRef, ctx: Context): RolloutDecision {
  const following = ctx.steps[canary.step + 1];
  if (!following && canary.weight >= 100) return finalize(state, canary, target, ctx);
  const next: CanaryState = following
    ? { modelVersion: canary.modelVersion, step: canary.step + 1, weight: following.weight, startedAt: canary.startedAt, stepStartedAt: ctx.nowIso }
    : { modelVersion: canary.modelVersion, step: ctx.steps.length, weight: 100, startedAt: canary.startedAt, stepStartedAt: ctx.nowIso };
  if (canary.lastAnalysis) next.lastAnalysis = canary.lastAnalysis;
  const message = describeStep(next, ctx);
  const [action, reason] = following ? (['Advance', R.CanaryProgressing] as const) : (['Promote', R.Promoting] as const);
  return { action, reason, message, state: { ...state, canary: next }, requeueAfterMs: ctx.deadlineMs, event: { type: 'Normal', reason, message } };
}

/** The canary takes over: the old version's history entry closes and the new one's opens. */
function finalize(state: RolloutState, canary: CanaryState, target: VersionRef, ctx: Context): RolloutDecision {
  const current = state.currentModelVersion;
  const closed = state.history.map((h) => (h.modelVersion === current && h.to === undefined ? { ...h, to: ctx.nowIso } : h));
  const next: RolloutState = {
    ...withoutCanary(state),
    currentModelVersion: target.name,
    currentVersion: target.version,
    history: pushBounded(closed, {
      modelVersion: target.name,
      version: target.version,
      from: ctx.nowIso,
      reason: ctx.spec.modelVersion ? 'Pinned' : 'Promoted',
      message: `replaced ${current ?? ''} after ${Math.min(canary.step + 1, ctx.steps.length)} step(s)`,
    }),
  };
  const message = `${target.name} promoted; it replaces ${current ?? ''}`;
  return { action: 'Finalize', reason: R.Promoted, message, state: next, requeueAfterMs: undefined, event: { type: 'Normal', reason: R.Promoted, message } };
}

/** The canary failed: it stops, the version is remembered in failedRollouts and never retried automatically. */
function rollback(state: RolloutState, canary: CanaryState, target: VersionRef, reason: string, why: string, ctx: Context): RolloutDecision {
  const next: RolloutState = {
    ...withoutCanary(state),
    history: pushBounded(state.history, {
      modelVersion: canary.modelVersion,
      version: target.version,
      from: canary.startedAt,
      to: ctx.nowIso,
      reason: 'RolledBack',
      message: `${reason}: ${why}`,
    }),
    failedRollouts: pushBounded(
      state.failedRollouts.filter((f) => f.modelVersion !== canary.modelVersion),
      { modelVersion: canary.modelVersion, generation: ctx.generation, reason },
    ),
  };
  const message = `rolled back ${canary.modelVersion} (${why}); ${state.currentModelVersion ?? ''} keeps serving`;
  return { action: 'Rollback', reason: R.RolledBack, message, state: next, requeueAfterMs: undefined, event: { type: 'Warning', reason, message } };
}

/** Ends the canary without counting it as failed (it is no longer asked for). */
function abandon(state: RolloutState, canary: CanaryState, why: string, ctx: Context): RolloutDecision {
  const next: RolloutState = {
    ...withoutCanary(state),
    history: pushBounded(state.history, { modelVersion: canary.modelVersion, from: canary.startedAt, to: ctx.nowIso, reason: 'RolledBack', message: `rollout abandoned: ${why}` }),
  };
  const message = `rollout of ${canary.modelVersion} abandoned: ${why}`;
  return { action: 'Abort', reason: R.RolledBack, message, state: next, requeueAfterMs: undefined, event: { type: 'Normal', reason: R.RolledBack, message } };
}

function describeStep(c: CanaryState, ctx: Context): string {
  const steps = ctx.steps.length;
  return c.step >= steps ? `promoting ${c.modelVersion} (weight 100%)` : `rolling out ${c.modelVersion}: step ${c.step + 1}/${steps}, weight ${c.weight}%`;
}

function withoutCanary(state: RolloutState): RolloutState {
  const { canary: _canary, ...rest } = state;
  return rest;
}

function pushBounded<T>(list: readonly T[], item: T): T[] {
  return [...list, item].slice(-HISTORY_LIMIT);
}

import { expect } from 'chai';
import { exampleInferenceService } from '../../../test/fixtures/api-examples.js';
import type { InferenceService } from '../../shared/api/inference-service.js';
import type { AnalysisResult } from './analysis.js';
import { decideRollout, type RolloutDecision, type RolloutInput } from './rollout.js';

const T0 = Date.parse('2026-04-01T12:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const v1 = { name: 'cats-dogs-v1', version: 1 };
const v2 = { name: 'cats-dogs-v2', version: 2 };
const v3 = { name: 'cats-dogs-v3', version: 3 };
const pass: AnalysisResult = { verdict: 'Pass', reasons: ['ok: error rate 0.00% (max 1.00%)'] };

/** Canary 25 → 50 → 100 with 60 s pauses, analysis, 600 s deadline; 4 replicas. */
function canaryService(): InferenceService {
  const s = exampleInferenceService();
  s.metadata.generation = 1;
  s.spec.replicas = 4;
  return s;
}

/** Applies a decision's state to the service as the reconciler's status write would. */
function apply(isvc: InferenceService, d: RolloutDecision): InferenceService {
  const { state } = d;
  isvc.status = {
    ...(state.currentModelVersion ? { currentModelVersion: state.currentModelVersion } : {}),
    ...(state.currentVersion !== undefined ? { currentVersion: state.currentVersion } : {}),
    ...(state.canary ? { canary: state.canary } : {}),
    history: state.history,
    failedRollouts: state.failedRollouts,
  };
  return isvc;
}

function step(isvc: InferenceService, input: Omit<RolloutInput, 'isvc'>): RolloutDecision {
  const d = decideRollout({ isvc, ...input });
  apply(isvc, d);
  return d;
}

describe('rollout state machine', () => {
  it('waits with nothing eligible, then deploys the first version directly', () => {
    const isvc = canaryService();
    expect(step(isvc, { now: at(0) })).to.deep.include({ action: 'None', reason: 'NoEligibleVersion' });
    const d = step(isvc, { target: v1, now: at(1) });
    expect(d.action).to.equal('Deploy');
    expect(isvc.status?.currentModelVersion).to.equal('cats-dogs-v1');
    expect(isvc.status?.history).to.deep.equal([{ modelVersion: 'cats-dogs-v1', version: 1, from: '2026-04-01T12:00:01Z', reason: 'Initial', message: 'first version served: cats-dogs-v1' }]);
    expect(step(isvc, { target: v1, now: at(2) }).action).to.equal('None');
  });

  it('walks a canary through its steps and promotes it', () => {
    const isvc = canaryService();
    step(isvc, { target: v1, now: at(0) });
    let d = step(isvc, { target: v2, now: at(100) });
    expect(d.action).to.equal('Start');
    expect(isvc.status?.canary).to.deep.include({ modelVersion: 'cats-dogs-v2', step: 0, weight: 25 });
    d = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 0 }, now: at(110) });
    expect(d.action).to.equal('WaitReady');
    expect(d.requeueAfterMs).to.equal(590_000);
    d = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, now: at(120) });
    expect(d.action).to.equal('Pause');
    expect(isvc.status?.canary?.readyAt).to.equal('2026-04-01T12:02:00Z');
    expect(d.requeueAfterMs).to.equal(60_000);
    d = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, now: at(180) });
    expect(d.action).to.equal('Pause');
    expect(d.reason).to.equal('AnalysisInconclusive');
    d = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, analysis: pass, now: at(190) });
    expect(d.action).to.equal('Advance');
    expect(isvc.status?.canary).to.deep.include({ step: 1, weight: 50 });
    expect(isvc.status?.canary?.readyAt).to.equal(undefined);
    // step 2 (50%): 2 canary pods wanted
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, analysis: pass, now: at(200) }).action).to.equal('WaitReady');
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 2 }, analysis: pass, now: at(210) }).action).to.equal('Pause');
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 2 }, analysis: pass, now: at(270) }).action).to.equal('Advance');
    expect(isvc.status?.canary).to.deep.include({ step: 2, weight: 100 });
    // last step at 100: once all 4 are ready and analysis passes, it takes over
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 4 }, analysis: pass, now: at(280) }).action).to.equal('Pause');
    d = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 4 }, analysis: pass, now: at(340) });
    expect(d.action).to.equal('Finalize');
    expect(d.event).to.deep.include({ type: 'Normal', reason: 'Promoted' });
    expect(isvc.status?.currentModelVersion).to.equal('cats-dogs-v2');
    expect(isvc.status?.currentVersion).to.equal(2);
    expect(isvc.status?.canary).to.equal(undefined);
    const history = isvc.status?.history ?? [];
    expect(history.map((h) => [h.modelVersion, h.reason, h.to ?? null])).to.deep.equal([
      ['cats-dogs-v1', 'Initial', '2026-04-01T12:05:40Z'],
      ['cats-dogs-v2', 'Promoted', null],
    ]);
  });

  it('promotes with an extra weight-100 step when the last canary step is below 100', () => {
    const isvc = canaryService();
    isvc.spec.rollout = { strategy: 'Canary', steps: [{ weight: 50, pauseSeconds: 0 }] };
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(1) });
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 2 }, now: at(2) }).action).to.equal('Promote');
    expect(isvc.status?.canary).to.deep.include({ step: 1, weight: 100 });
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 3 }, now: at(3) }).action).to.equal('WaitReady');
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 4 }, now: at(4) }).action).to.equal('Finalize');
  });

  it('Rolling: the new version starts at full size beside the old and takes over when ready', () => {
    const isvc = canaryService();
    isvc.spec.rollout = { strategy: 'Rolling' };
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(1) });
    expect(isvc.status?.canary?.weight).to.equal(100);
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 4 }, now: at(30) }).action).to.equal('Finalize');
  });

  it('Rolling under autoscaling: the new version takes over only with as many ready pods as the HPA had scaled the old one to', () => {
    const isvc = canaryService();
    delete isvc.spec.replicas;
    isvc.spec.autoscaling = { minReplicas: 1, maxReplicas: 5 };
    isvc.spec.rollout = { strategy: 'Rolling' };
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, stableReplicas: 3, now: at(1) });
    const waiting = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, stableReplicas: 3, now: at(30) });
    expect(waiting.action, 'minReplicas (1) ready is not enough').to.equal('WaitReady');
    expect(waiting.message).to.include('1/3 new pods ready');
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 3 }, stableReplicas: 3, now: at(40) }).action).to.equal('Finalize');
  });

  it('rolls back when the new pods are not ready by the progress deadline, and never retries that version', () => {
    const isvc = canaryService();
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(10) });
    const d = step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 0 }, now: at(610) });
    expect(d.action).to.equal('Rollback');
    expect(d.event?.type).to.equal('Warning');
    expect(d.message).to.contain('cats-dogs-v1 keeps serving');
    expect(isvc.status?.currentModelVersion).to.equal('cats-dogs-v1');
    expect(isvc.status?.canary).to.equal(undefined);
    expect(isvc.status?.failedRollouts).to.deep.equal([{ modelVersion: 'cats-dogs-v2', generation: 1, reason: 'ProgressDeadlineExceeded' }]);
    const last = isvc.status?.history?.at(-1);
    expect(last).to.deep.include({ modelVersion: 'cats-dogs-v2', reason: 'RolledBack', from: '2026-04-01T12:00:10Z', to: '2026-04-01T12:10:10Z' });
    expect(last?.message).to.match(/^ProgressDeadlineExceeded: 0\/1 new pods ready/);
  });

  it('rolls back when the analysis fails', () => {
    const isvc = canaryService();
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(1) });
    step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, now: at(2) });
    const d = step(isvc, {
      target: v2,
      canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 },
      analysis: { verdict: 'Fail', reasons: ['FAIL: error rate 12.00% (max 1.00%)', 'ok: p95 latency 80 ms (max 500 ms)'] },
      now: at(70),
    });
    expect(d.action).to.equal('Rollback');
    expect(d.event?.reason).to.equal('AnalysisFailed');
    expect(isvc.status?.failedRollouts?.[0]?.reason).to.equal('AnalysisFailed');
    expect(isvc.status?.history?.at(-1)?.message).to.equal('AnalysisFailed: FAIL: error rate 12.00% (max 1.00%)');
  });

  it('rolls back an analysis that stays inconclusive past the deadline', () => {
    const isvc = canaryService();
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(1) });
    step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, now: at(2) });
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, now: at(600) }).action).to.equal('Pause');
    expect(step(isvc, { target: v2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 1 }, now: at(663) }).event?.reason).to.equal('AnalysisInconclusive');
  });

  it('restarts for a newer target mid-rollout and abandons when the old version is asked for again', () => {
    const isvc = canaryService();
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(1) });
    let d = step(isvc, { target: v3, now: at(5) });
    expect(d.action).to.equal('Restart');
    expect(isvc.status?.canary).to.deep.include({ modelVersion: 'cats-dogs-v3', step: 0 });
    expect(isvc.status?.failedRollouts).to.deep.equal([]);
    d = step(isvc, { target: v1, now: at(6) });
    expect(d.action).to.equal('Abort');
    expect(isvc.status?.canary).to.equal(undefined);
    expect(isvc.status?.history?.map((h) => h.reason)).to.deep.equal(['Initial', 'RolledBack', 'RolledBack']);
  });

  it('abandons a canary whose version is no longer eligible', () => {
    const isvc = canaryService();
    step(isvc, { target: v1, now: at(0) });
    step(isvc, { target: v2, now: at(1) });
    expect(step(isvc, { now: at(2) }).action).to.equal('Abort');
    expect(step(isvc, { now: at(3) })).to.deep.include({ action: 'None', reason: 'Serving' });
  });
});

import { expect } from 'chai';
import { exampleInferenceService, exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import type { InferenceService } from '../../shared/api/inference-service.js';
import { decideRollout, type RolloutInput } from './rollout.js';
import { computeInferenceServiceStatus, InferenceServiceWarningPhases, servedVersions, unreadyDeadlineMs, type ServingObservation } from './status.js';
import { phaseEvent } from '../shared/phase-event.js';
import type { TargetResult } from './target.js';

const T0 = Date.parse('2026-04-01T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const mv1 = exampleModelVersion('cats-dogs-v1', 1);
const mv2 = exampleModelVersion('cats-dogs-v2', 2);
const ok = (mv: typeof mv1): TargetResult => ({ ok: true, modelVersion: mv });

function service(): InferenceService {
  const s = exampleInferenceService('web');
  s.metadata.generation = 7;
  s.spec.replicas = 2;
  s.spec.rollout = { strategy: 'Rolling', progressDeadlineSeconds: 120 };
  return s;
}

/** One reconcile: decide, compute status, store it. */
function reconcile(isvc: InferenceService, target: TargetResult, o: Partial<ServingObservation> & Partial<Pick<RolloutInput, 'canary'>>, now: Date) {
  const decision = decideRollout({ isvc, target: target.ok ? { name: target.modelVersion.metadata.name, version: target.modelVersion.spec.version } : undefined, canary: o.canary, now });
  const status = computeInferenceServiceStatus(isvc, { decision, target, stableReadyReplicas: 0, podMonitoring: 'Created', now, ...o });
  isvc.status = status;
  return status;
}
const cond = (s: ReturnType<typeof reconcile>, type: string) => s.conditions?.find((c) => c.type === type);

describe('inference-service status', () => {
  it('is Pending with the reason while nothing is eligible', () => {
    const s = reconcile(service(), { ok: false, reason: 'NoEligibleVersion', message: 'no ModelVersion of cats-dogs has passed its gate yet', terminal: false }, {}, at(0));
    expect(s.phase).to.equal('Pending');
    expect(cond(s, 'Ready')).to.deep.include({ status: 'False', reason: 'NoEligibleVersion' });
    expect(cond(s, 'Reconciling')?.status).to.equal('True');
    expect(s.observedGeneration).to.equal(7);
    expect(s.url).to.equal('http://web.default.svc.cluster.local');
  });

  it('is Ready only when the serving pods are ready', () => {
    const isvc = service();
    let s = reconcile(isvc, ok(mv1), { stableReadyReplicas: 1 }, at(0));
    expect(s.phase).to.equal('Progressing');
    expect(cond(s, 'Ready')).to.deep.include({ status: 'False', reason: 'PodsNotReady', message: '1/2 pods of cats-dogs-v1 ready' });
    s = reconcile(isvc, ok(mv1), { stableReadyReplicas: 2 }, at(10));
    expect(s.phase).to.equal('Ready');
    expect(cond(s, 'Ready')).to.deep.include({ status: 'True', reason: 'Serving' });
    expect(cond(s, 'Reconciling')).to.equal(undefined);
    expect(s.readyReplicas).to.equal(2);
    expect(servedVersions(isvc)).to.deep.equal(['cats-dogs-v1']);
  });

  it('is Degraded and Stalled when the first version never gets ready', () => {
    const isvc = service();
    reconcile(isvc, ok(mv1), {}, at(0));
    const s = reconcile(isvc, ok(mv1), {}, at(121));
    expect(s.phase).to.equal('Degraded');
    expect(cond(s, 'Stalled')).to.deep.include({ status: 'True', reason: 'ProgressDeadlineExceeded' });
    expect(phaseEvent({ phase: 'Progressing' }, s, InferenceServiceWarningPhases)?.type).to.equal('Warning');
  });

  it('gives a version that served well a fresh deadline when its pods go unready', () => {
    const isvc = service();
    reconcile(isvc, ok(mv1), { stableReadyReplicas: 2 }, at(0));
    let s = reconcile(isvc, ok(mv1), { stableReadyReplicas: 1 }, at(1000));
    expect(s.phase).to.equal('Progressing');
    expect(cond(s, 'Stalled')).to.equal(undefined);
    s = reconcile(isvc, ok(mv1), { stableReadyReplicas: 1 }, at(1100));
    expect(s.phase).to.equal('Progressing');
    expect(unreadyDeadlineMs(isvc, { history: s.history ?? [], currentModelVersion: 'cats-dogs-v1' }, at(1100))).to.equal(20_000);
    s = reconcile(isvc, ok(mv1), { stableReadyReplicas: 1 }, at(1121));
    expect(s.phase).to.equal('Degraded');
    s = reconcile(isvc, ok(mv1), { stableReadyReplicas: 2 }, at(1130));
    expect(s.phase).to.equal('Ready');
    expect(cond(s, 'Stalled')).to.equal(undefined);
  });

  it('stays Ready during a rollout (Reconciling) and says so after a rollback', () => {
    const isvc = service();
    reconcile(isvc, ok(mv1), { stableReadyReplicas: 2 }, at(0));
    let s = reconcile(isvc, ok(mv2), { stableReadyReplicas: 2 }, at(10));
    expect(s.phase).to.equal('Progressing');
    expect(s.canary?.modelVersion).to.equal('cats-dogs-v2');
    expect(s.replicas).to.equal(4);
    expect(cond(s, 'Ready')?.status).to.equal('True');
    expect(cond(s, 'Reconciling')?.reason).to.equal('CanaryProgressing');
    expect(servedVersions(isvc)).to.deep.equal(['cats-dogs-v1', 'cats-dogs-v2']);
    s = reconcile(isvc, ok(mv2), { stableReadyReplicas: 2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 0 } }, at(200));
    expect(s.phase).to.equal('Ready');
    expect(s.currentModelVersion).to.equal('cats-dogs-v1');
    expect(cond(s, 'Ready')).to.deep.include({ status: 'True', reason: 'RolledBack' });
    expect(cond(s, 'Ready')?.message).to.contain('cats-dogs-v2 was rolled back');
    // later reconciles keep saying so, and v2 is not retried
    s = reconcile(isvc, { ok: true, modelVersion: mv1 }, { stableReadyReplicas: 2 }, at(300));
    expect(cond(s, 'Ready')?.reason).to.equal('RolledBack');
    expect(s.failedRollouts?.[0]?.modelVersion).to.equal('cats-dogs-v2');
  });

  it('reports the promoted version and the PodMonitoring condition', () => {
    const isvc = service();
    reconcile(isvc, ok(mv1), { stableReadyReplicas: 2 }, at(0));
    reconcile(isvc, ok(mv2), { stableReadyReplicas: 2 }, at(10));
    const s = reconcile(isvc, ok(mv2), { stableReadyReplicas: 2, canary: { modelVersion: 'cats-dogs-v2', readyReplicas: 2 }, podMonitoring: 'Unavailable' }, at(20));
    expect(s.currentModelVersion).to.equal('cats-dogs-v2');
    expect(s.currentVersion).to.equal(2);
    expect(cond(s, 'Ready')?.reason).to.equal('Promoted');
    expect(cond(s, 'PodMonitoring')).to.deep.include({ status: 'False', reason: 'PodMonitoringUnavailable' });
    expect(s.history?.map((h) => h.reason)).to.deep.equal(['Initial', 'Promoted']);
  });
});

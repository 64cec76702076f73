import { expect } from 'chai';
import { exampleInferenceService, exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import type { InferenceService } from '../../shared/api/inference-service.js';
import { clockWait } from './clock-wait.js';
import { decideRollout } from './rollout.js';
import { computeInferenceServiceStatus } from './status.js';

const T0 = Date.parse('2026-04-01T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const mv1 = exampleModelVersion('cats-dogs-v1', 1);

/** One reconcile's decision, status and clock wait; the status is stored as the next pass's previous one. */
function pass(isvc: InferenceService, readyPods: number, now: Date): number | undefined {
  const decision = decideRollout({ isvc, target: { name: mv1.metadata.name, version: 1 }, now });
  const status = computeInferenceServiceStatus(isvc, { decision, target: { ok: true, modelVersion: mv1 }, stableReadyReplicas: readyPods, podMonitoring: 'Created', now });
  isvc.status = status;
  return clockWait(isvc, decision, status, now);
}

describe('inference-service clock wait', () => {
  function service(): InferenceService {
    const s = exampleInferenceService('web');
    s.metadata.generation = 1;
    s.spec.replicas = 2;
    s.spec.rollout = { strategy: 'Rolling', progressDeadlineSeconds: 120 };
    return s;
  }

  it('a first version whose pods are not ready: looks again when its progress deadline passes', () => {
    const isvc = service();
    expect(pass(isvc, 0, at(0))).to.equal(121_000);
    expect(pass(isvc, 1, at(100))).to.equal(21_000);
  });

  it('a long-serving version that loses its pods: looks again at its fresh deadline, not every second', () => {
    const isvc = service();
    pass(isvc, 0, at(0));
    expect(pass(isvc, 2, at(60)), 'Ready: nothing to wait for').to.equal(undefined);
    // A day later a node goes away: Ready turns False now, and the deadline counts from now.
    expect(pass(isvc, 1, at(86_400))).to.equal(121_000);
    expect(pass(isvc, 1, at(86_400 + 30))).to.equal(91_000);
    expect(isvc.status?.phase).to.equal('Progressing');
  });
});

import { expect } from 'chai';
import { exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import { decideGate, effectivePolicy, evaluateGate, findChampion } from './gate.js';

const now = new Date('2026-03-01T00:00:00.000Z');

function mv(name: string, version: number, accuracy: number, gate?: ModelVersion['spec']['gate']): ModelVersion {
  const v = exampleModelVersion(name, version);
  v.spec.metrics.accuracy = accuracy;
  v.spec.gate = gate;
  return v;
}

describe('evaluation gate', () => {
  it('fills missing thresholds from the operator defaults, spec values win', () => {
    expect(effectivePolicy(undefined, { minAccuracy: 0.8 })).to.deep.equal({ minAccuracy: 0.8 });
    expect(effectivePolicy({ minAccuracy: 0.6, mustBeatChampion: { margin: 0.01 } }, { minAccuracy: 0.8 })).to.deep.equal({
      minAccuracy: 0.6,
      mustBeatChampion: { metric: 'accuracy', margin: 0.01 },
    });
  });

  it('passes a version meeting every threshold, with a reason per check', () => {
    const v = evaluateGate(mv('m-v1', 1, 0.84, { minAccuracy: 0.8, minF1: 0.8, minClassRecall: 0.8 }), { defaults: {}, now });
    expect(v.passed).to.equal(true);
    expect(v.reasons).to.have.length(4);
    expect(v.reasons.every((r) => r.startsWith('ok:'))).to.equal(true);
    expect(v.evaluatedAt).to.equal('2026-03-01T00:00:00Z');
  });

  it('rejects below minAccuracy (default) and below a class recall floor', () => {
    const low = evaluateGate(mv('m-v1', 1, 0.55), { defaults: { minAccuracy: 0.8 }, now });
    expect(low.passed).to.equal(false);
    expect(low.reasons).to.deep.equal(['FAIL: accuracy 0.550 < minAccuracy 0.800']);
    const recall = evaluateGate(mv('m-v1', 1, 0.9, { minClassRecall: 0.84 }), { defaults: {}, now });
    expect(recall.passed).to.equal(false);
    expect(recall.reasons).to.deep.equal(['FAIL: recall of cat 0.830 < minClassRecall 0.840', 'ok: recall of dog 0.850 ≥ minClassRecall 0.840']);
  });

  it('must beat the serving champion by the margin', () => {
    const champion = mv('m-v1', 1, 0.84);
    const gate = { mustBeatChampion: { margin: 0.02 } };
    const worse = evaluateGate(mv('m-v2', 2, 0.85, gate), { defaults: {}, champion, now });
    expect(worse.passed).to.equal(false);
    expect(worse.comparedTo).to.equal('m-v1');
    const better = evaluateGate(mv('m-v2', 2, 0.86, gate), { defaults: {}, champion, now });
    expect(better.passed).to.equal(true);
    const noChampion = evaluateGate(mv('m-v2', 2, 0.5, gate), { defaults: {}, now });
    expect(noChampion.passed).to.equal(true);
    expect(noChampion.reasons[0]).to.contain('no champion');
  });

  it('finds the newest serving version of the same model as champion', () => {
    const a = mv('m-v1', 1, 0.8);
    a.status = { phase: 'Serving' };
    const b = mv('m-v2', 2, 0.8);
    b.status = { phase: 'Passed' };
    const c = mv('m-v3', 3, 0.8);
    c.status = { phase: 'Serving' };
    const other = mv('x-v9', 9, 0.8);
    other.spec.model = 'x';
    other.status = { phase: 'Serving' };
    expect(findChampion(mv('m-v4', 4, 0.9), [a, b, c, other])?.metadata.name).to.equal('m-v3');
    expect(findChampion(c, [c])).to.equal(undefined);
  });

  it('is decided once: a recorded verdict is kept', () => {
    const v = mv('m-v1', 1, 0.9);
    const first = decideGate(v, { defaults: { minAccuracy: 0.8 }, now });
    v.status = { gate: first };
    expect(decideGate(v, { defaults: { minAccuracy: 0.95 }, now })).to.equal(first);
  });
});

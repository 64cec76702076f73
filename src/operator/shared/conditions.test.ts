import { expect } from 'chai';
import type { Condition } from '../../shared/api/common.js';
import { findCondition, isConditionTrue, mergeConditions, setCondition, statusChanged, summaryConditions } from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const t1 = new Date('2026-01-01T00:05:00.000Z');

describe('conditions', () => {
  it('moves lastTransitionTime only when status flips', () => {
    let list = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Training', message: 'epoch 1/3' }, { now: t0, generation: 1 });
    expect(list[0]).to.deep.equal({
      type: 'Ready',
      status: 'False',
      reason: 'Training',
      message: 'epoch 1/3',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 1,
    });
    list = setCondition(list, { type: 'Ready', status: 'False', reason: 'Training', message: 'epoch 2/3' }, { now: t1, generation: 2 });
    expect(list[0]?.lastTransitionTime).to.equal('2026-01-01T00:00:00Z');
    expect(list[0]?.message).to.equal('epoch 2/3');
    expect(list[0]?.observedGeneration).to.equal(2);
    list = setCondition(list, { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'done' }, { now: t1 });
    expect(list[0]?.lastTransitionTime).to.equal('2026-01-01T00:05:00Z');
  });

  it('never accepts an empty reason and does not mutate its input', () => {
    const before: Condition[] = [{ type: 'Ready', status: 'True', reason: 'X', message: '', lastTransitionTime: 'a' }];
    const frozen = Object.freeze([Object.freeze({ ...before[0]! })]);
    expect(() => setCondition(frozen, { type: 'Ready', status: 'False', reason: '', message: '' }, { now: t0 })).to.throw(/reason/);
    const after = setCondition(frozen, { type: 'Ready', status: 'False', reason: 'Y', message: '' }, { now: t0 });
    expect(frozen[0]?.status).to.equal('True');
    expect(after[0]?.status).to.equal('False');
  });

  it('merges: keeps order, appends new types, removes managed types no longer wanted', () => {
    let list = mergeConditions(
      undefined,
      summaryConditions({
        ready: { status: 'False', reason: 'Training', message: 'm' },
        reconciling: { reason: 'Training', message: 'm' },
      }),
      { now: t0 },
    );
    expect(list.map((c) => c.type)).to.deep.equal(['Ready', 'Reconciling']);
    list = [...list, { type: 'Custom', status: 'True', reason: 'Kept', message: '', lastTransitionTime: 'x' }];
    list = mergeConditions(
      list,
      summaryConditions({ ready: { status: 'False', reason: 'OOMKilled', message: 'm' }, stalled: { reason: 'OOMKilled', message: 'm' } }),
      { now: t1 },
    );
    expect(list.map((c) => c.type)).to.deep.equal(['Ready', 'Custom', 'Stalled']);
    expect(findCondition(list, 'Ready')?.lastTransitionTime).to.equal('2026-01-01T00:00:00Z');
    expect(isConditionTrue(list, 'Stalled')).to.equal(true);
    expect(isConditionTrue(list, 'Reconciling')).to.equal(false);
  });

  it('detects status changes regardless of key order', () => {
    expect(statusChanged({ a: 1, b: { c: 2 } }, { b: { c: 2 }, a: 1 })).to.equal(false);
    expect(statusChanged({ a: 1 }, { a: 2 })).to.equal(true);
    expect(statusChanged(undefined, {})).to.equal(false);
  });
});

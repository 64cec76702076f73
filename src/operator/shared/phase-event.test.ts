import { expect } from 'chai';
import { phaseEvent } from './phase-event.js';

const ready = (reason: string, message: string) => [{ type: 'Ready', status: 'False' as const, reason, message, lastTransitionTime: '2025-01-01T00:00:00Z' }];

describe('phaseEvent', () => {
  it('is undefined while the phase stays', () => {
    expect(phaseEvent({ phase: 'Running' }, { phase: 'Running', conditions: ready('Training', 'epoch 2') }, ['Failed'])).to.equal(undefined);
  });

  it('tells the change with the Ready reason and message, Warning only for the given phases', () => {
    expect(phaseEvent({ phase: 'Running' }, { phase: 'Failed', conditions: ready('OOMKilled', 'out of memory') }, ['Failed'])).to.deep.equal({
      type: 'Warning',
      reason: 'OOMKilled',
      message: 'Running → Failed: out of memory',
    });
    expect(phaseEvent(undefined, { phase: 'Pending', conditions: ready('JobCreated', 'creating Job') }, ['Failed'])).to.deep.equal({
      type: 'Normal',
      reason: 'JobCreated',
      message: 'New → Pending: creating Job',
    });
  });

  it('falls back to the phase as the reason when there is no Ready condition', () => {
    expect(phaseEvent({ phase: 'Passed' }, { phase: 'Serving' }, [])).to.deep.equal({ type: 'Normal', reason: 'Serving', message: 'Passed → Serving:' });
  });
});

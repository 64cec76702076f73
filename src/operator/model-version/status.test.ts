import { expect } from 'chai';
import { exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import { evaluateGate } from './gate.js';
import { computeModelVersionStatus, ModelVersionWarningPhases } from './status.js';
import { phaseEvent } from '../shared/phase-event.js';

const now = new Date('2026-03-01T00:00:00.000Z');

describe('model-version status', () => {
  const passing = () => {
    const mv = exampleModelVersion();
    mv.metadata.generation = 1;
    delete mv.spec.gate;
    return mv;
  };
  const gate = (min: number) => evaluateGate(passing(), { defaults: { minAccuracy: min }, now });

  it('goes Passed → Serving → Retired as InferenceServices pick it up and drop it', () => {
    const mv = passing();
    const passed = computeModelVersionStatus(mv, { gate: gate(0.5), servingBy: [], now });
    expect(passed.phase).to.equal('Passed');
    expect(passed.observedGeneration).to.equal(1);
    mv.status = passed;
    const serving = computeModelVersionStatus(mv, { gate: gate(0.5), servingBy: ['web', 'api'], now });
    expect(serving.phase).to.equal('Serving');
    expect(serving.servingBy).to.deep.equal(['api', 'web']);
    expect(phaseEvent(passed, serving, ModelVersionWarningPhases)).to.deep.include({ type: 'Normal', reason: 'Serving' });
    mv.status = serving;
    const retired = computeModelVersionStatus(mv, { gate: gate(0.5), servingBy: [], now });
    expect(retired.phase).to.equal('Retired');
  });

  it('is Rejected, Ready=False and Stalled when the gate fails, with the failed checks', () => {
    const s = computeModelVersionStatus(passing(), { gate: gate(0.9), servingBy: [], now });
    expect(s.phase).to.equal('Rejected');
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).to.equal('False');
    expect(ready?.message).to.contain('accuracy 0.840 < minAccuracy 0.900');
    expect(s.conditions?.map((c) => c.type)).to.deep.equal(['Ready', 'Stalled']);
    expect(phaseEvent(undefined, s, ModelVersionWarningPhases)?.type).to.equal('Warning');
  });

  it('is Evaluated until a gate verdict exists', () => {
    expect(computeModelVersionStatus(passing(), { servingBy: [], now }).phase).to.equal('Evaluated');
  });
});

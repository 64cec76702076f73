import { expect } from 'chai';
import { exampleInferenceService } from '../../../test/fixtures/api-examples.js';
import { canaryReplicas, replicaPlan, totalReplicas } from './replica-plan.js';

describe('replica plan', () => {
  it('replica plan: proportional canary, stable shrinks only once the step is ready', () => {
    expect(canaryReplicas(4, 25)).to.equal(1);
    expect(canaryReplicas(4, 50)).to.equal(2);
    expect(canaryReplicas(1, 10)).to.equal(1);
    expect(canaryReplicas(4, 100)).to.equal(4);
    const spec = { ...exampleInferenceService().spec, replicas: 4 };
    const c = { modelVersion: 'x', step: 1, weight: 50, startedAt: '', stepStartedAt: '' };
    expect(replicaPlan(spec, undefined)).to.deep.equal({ stable: 4, canary: 0 });
    expect(replicaPlan(spec, c)).to.deep.equal({ stable: 3, canary: 2 }); // still giving up only step 1's share
    expect(replicaPlan(spec, { ...c, readyAt: 'now' })).to.deep.equal({ stable: 2, canary: 2 });
    expect(replicaPlan(spec, { ...c, step: 3, weight: 100 })).to.deep.equal({ stable: 4, canary: 4 });
  });

  it('under autoscaling: the total is what the HPA set on the stable Deployment, within min..max', () => {
    const spec = { ...exampleInferenceService().spec, replicas: undefined, autoscaling: { minReplicas: 2, maxReplicas: 6 } };
    delete spec.replicas;
    expect(totalReplicas(spec)).to.equal(2);
    expect(totalReplicas(spec, 5)).to.equal(5);
    expect(totalReplicas(spec, 9)).to.equal(6);
    expect(totalReplicas(spec, 1)).to.equal(2);
    const promoting = { modelVersion: 'x', step: 3, weight: 100, startedAt: '', stepStartedAt: '' };
    expect(replicaPlan(spec, promoting, 5), 'the new version runs as many pods as the HPA had').to.deep.equal({ stable: 5, canary: 5 });
  });
});

import type { V1PodStatus } from '@kubernetes/client-node';
import { expect } from 'chai';
import { statusDigest } from './status-manager.js';

describe('local cluster: node agent status digest', () => {
  const status = (over: Partial<V1PodStatus> = {}, ready = true): V1PodStatus => ({
    phase: 'Running',
    podIP: '10.244.3.2',
    containerStatuses: [{ name: 'main', image: 'w', imageID: '', restartCount: 1, ready, state: { running: { startedAt: new Date(1) } } }],
    ...over,
  });

  it('names phase, address and each container’s state, restarts and readiness', () => {
    expect(statusDigest(status())).to.equal('Running 10.244.3.2 main=running/1/ready');
    expect(statusDigest(undefined)).to.equal(' ');
    expect(
      statusDigest(status({ phase: 'Failed', containerStatuses: [{ name: 'main', image: 'w', imageID: '', restartCount: 0, ready: false, state: { terminated: { exitCode: 3 } } }] })),
    ).to.equal('Failed 10.244.3.2 main=terminated:3/0/unready');
    expect(statusDigest(status({ phase: 'Pending', containerStatuses: [{ name: 'main', image: 'w', imageID: '', restartCount: 0, ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] }))).to.equal(
      'Pending 10.244.3.2 main=waiting:ContainerCreating/0/unready',
    );
  });

  it('ignores what the API server adds or rewrites (times, conditions), so an unchanged status needs no write', () => {
    const a = status();
    const b = status({ startTime: new Date(5), conditions: [{ type: 'Ready', status: 'True' }] });
    expect(statusDigest(a)).to.equal(statusDigest(b));
    expect(statusDigest(a)).to.not.equal(statusDigest(status({}, false)));
  });
});

import { expect } from 'chai';
import { ConfigError, loadOperatorConfig } from './config.js';

describe('operator config', () => {
  it('reads the contract env variables with their defaults', () => {
    const c = loadOperatorConfig({ KENNEL_ARTIFACT_ROOT: 'gs://b/kennel', KENNEL_NAMESPACES: 'a, b,a', KENNEL_LEASE_NAMESPACE: 'ops' });
    expect(c.namespaces).to.deep.equal(['a', 'b']);
    expect(c.leaderElect).to.equal(true);
    expect(c.leaseNamespace).to.equal('ops');
    expect(c.healthPort).to.equal(8081);
    expect(c.gateMinAccuracy).to.equal(0.8);
    expect(c.workers).to.equal(16);
    expect(c.progressPollSeconds).to.equal(10);
    expect(loadOperatorConfig({ KENNEL_ARTIFACT_ROOT: 'gs://b', KENNEL_PROGRESS_POLL_SECONDS: '2' }).progressPollSeconds).to.equal(2);
    expect(() => loadOperatorConfig({ KENNEL_ARTIFACT_ROOT: 'gs://b', KENNEL_PROGRESS_POLL_SECONDS: '0' })).to.throw(/KENNEL_PROGRESS_POLL_SECONDS/);
    expect(c.workerImage).to.match(/^ghcr\.io\/kennel-dev\/kennel-worker:\d/);
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('lets flags override env', () => {
    const c = loadOperatorConfig({ KENNEL_ARTIFACT_ROOT: 'gs://b/k', KENNEL_LEADER_ELECT: 'true', KENNEL_HEALTH_PORT: '9000' }, { leaderElect: false, healthPort: '0' });
    expect(c.leaderElect).to.equal(false);
    expect(c.healthPort).to.equal(0);
  });

  it('names every bad variable in one error', () => {
    try {
      loadOperatorConfig({ KENNEL_LEADER_ELECT: 'maybe', KENNEL_HEALTH_PORT: 'x' });
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).to.include('KENNEL_LEADER_ELECT');
      expect(msg).to.include('KENNEL_HEALTH_PORT');
      expect(msg).to.include('KENNEL_ARTIFACT_ROOT: required');
    }
    expect(() => loadOperatorConfig({ KENNEL_ARTIFACT_ROOT: 'http://x', KENNEL_GATE_MIN_ACCURACY: '2' })).to.throw(/KENNEL_ARTIFACT_ROOT[\s\S]*KENNEL_GATE_MIN_ACCURACY|KENNEL_GATE_MIN_ACCURACY[\s\S]*KENNEL_ARTIFACT_ROOT/);
    expect(() => loadOperatorConfig({ KENNEL_ARTIFACT_ROOT: 'gs://b', KENNEL_NAMESPACES: 'Bad_NS' })).to.throw(/KENNEL_NAMESPACES/);
  });
});

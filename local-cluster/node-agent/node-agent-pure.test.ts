import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { cliArgsOf, expandVars, kennelImageOf } from './container-command.js';
import { ContainerConfigError, resolveEnv, type EnvSources } from './container-env.js';
import { podPhase } from './pod-phase.js';

/** The node agent's pure parts: image recognition, command mapping, environment, pod phase. */
describe('test bed node agent: image, command, env and phase rules', () => {
  it('recognises Kennel images by the last path segment of the repository', () => {
    expect(kennelImageOf('ghcr.io/kennel-dev/kennel-worker:0.1.0')).to.equal('kennel-worker');
    expect(kennelImageOf('localhost:5000/kennel-operator@sha256:abc')).to.equal('kennel-operator');
    expect(kennelImageOf('kennel-worker')).to.equal('kennel-worker');
    expect(kennelImageOf('ghcr.io/kennel-dev/kennel-worker-debug:1')).to.equal(undefined);
    expect(kennelImageOf('nginx:1.27')).to.equal(undefined);
  });

  it('maps command and args onto the kennel CLI and rejects other commands', () => {
    expect(cliArgsOf({ name: 'c', args: ['serve', '--port', '$(PORT)'] }, { PORT: '8080' })).to.deep.equal({ ok: true, args: ['serve', '--port', '8080'] });
    expect(cliArgsOf({ name: 'c', command: ['kennel', 'train'], args: ['--epochs', '2'] }, {})).to.deep.equal({ ok: true, args: ['train', '--epochs', '2'] });
    expect(cliArgsOf({ name: 'c', command: ['node', '/app/dist/cli.js', 'operator'] }, {})).to.deep.equal({ ok: true, args: ['operator'] });
    const bad = cliArgsOf({ name: 'c', command: ['sh', '-c', 'echo hi'] }, {});
    expect(bad.ok).to.equal(false);
  });

  it('expands $(VAR) like the kubelet: known names, $$ escapes, unknown names kept', () => {
    expect(expandVars('a-$(X)-$$(X)-$(Y)', { X: '1' })).to.equal('a-1-$(X)-$(Y)');
  });

  it('resolves env from ConfigMaps, Secrets, the downward API and resources', async () => {
    const sources: EnvSources = {
      configMap: (_ns, name) => Promise.resolve(name === 'cfg' ? { A: '1', B: '2' } : undefined),
      secret: (_ns, name) => Promise.resolve(name === 'sec' ? { key: 'v' } : undefined),
    };
    const pod: V1Pod = { metadata: { name: 'p', namespace: 'n', labels: { app: 'x' } }, spec: { containers: [] } };
    const env = await resolveEnv(
      pod,
      {
        name: 'c',
        resources: { limits: { memory: '512Mi', cpu: '1500m' } },
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'P_' }, { secretRef: { name: 'missing', optional: true } }],
        env: [
          { name: 'S', valueFrom: { secretKeyRef: { name: 'sec', key: 'key' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'REF', value: '$(P_A)+$(S)' },
        ],
      },
      { podIp: '10.244.1.5', hostIp: '10.244.1.1' },
      sources,
    );
    expect(env).to.deep.equal({ P_A: '1', P_B: '2', S: 'v', IP: '10.244.1.5', APP: 'x', MEM_MI: '512', CPU: '2', REF: '1+v' });
    const missing = await resolveEnv(pod, { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }] }, { podIp: '', hostIp: '' }, sources).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(ContainerConfigError);
    expect(String(missing)).to.contain("couldn't find key nope");
  });

  it('derives the pod phase as the kubelet does', () => {
    const running: V1ContainerStatus = { name: 'a', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } };
    const ok: V1ContainerStatus = { ...running, state: { terminated: { exitCode: 0 } } };
    const failed: V1ContainerStatus = { ...running, state: { terminated: { exitCode: 1 } } };
    const backoff: V1ContainerStatus = { ...running, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } };
    const pulling: V1ContainerStatus = { ...running, state: { waiting: { reason: 'ErrImagePull' } } };
    expect(podPhase('Always', [pulling])).to.equal('Pending');
    expect(podPhase('Always', [running])).to.equal('Running');
    expect(podPhase('Never', [ok])).to.equal('Succeeded');
    expect(podPhase('Never', [failed])).to.equal('Failed');
    expect(podPhase('OnFailure', [failed])).to.equal('Running');
    expect(podPhase('OnFailure', [ok])).to.equal('Succeeded');
    expect(podPhase('Always', [backoff])).to.equal('Running');
  });
});

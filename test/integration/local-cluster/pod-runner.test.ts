import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { createPodNetwork, type PodNetwork, type PodSandbox } from '../../../local-cluster/node-agent/pod-network.js';
import { PodRunner, type PodRunnerDeps } from '../../../local-cluster/node-agent/pod-runner.js';

const fakeCli = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const sleepingPod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', args: ['sleep'] }] },
};

/**
 * PodRunner on its own, with real processes and the loopback pod network (the races here are
 * the runner's, not the network's), and each dependency a test can hold at a chosen moment.
 */
describe('test bed node agent: PodRunner start and stop races', function () {
  this.timeout(30_000);
  let dir: string;
  let net: PodNetwork;
  const events: Array<{ message: string; data?: Record<string, unknown> }> = [];
  const started = (): number[] => events.filter((e) => e.message === 'container started').map((e) => e.data?.pid as number);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kennel-pod-runner-'));
    net = await createPodNetwork({ prefer: 'loopback' });
    events.length = 0;
  });
  afterEach(async () => {
    for (const pid of started()) if (alive(pid)) process.kill(-pid, 'SIGKILL');
    await net.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = (over: Partial<PodRunnerDeps> = {}): PodRunnerDeps => ({
    network: net,
    envSources: { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) },
    podKubeconfig: () => Promise.resolve(undefined),
    cliPath: fakeCli,
    podDir: dir,
    logPath: (c) => join(dir, `${c}.log`),
    hostIp: '127.0.0.1',
    onStatusChange: () => undefined,
    log: (message, data) => events.push({ message, ...(data ? { data } : {}) }),
    ...over,
  });

  it('a pod stopped while its container is being prepared never starts that container', async () => {
    // The container is between sandbox and process (here: its service-account kubeconfig is
    // being issued) when the pod is stopped, as at a pod deletion or a test bed's stop.
    const kubeconfig = deferred<string | undefined>();
    const asked = deferred<void>();
    const runner = new PodRunner(sleepingPod, deps({
      podKubeconfig: () => {
        asked.resolve();
        return kubeconfig.promise;
      },
    }));
    runner.start();
    await asked.promise;
    const stopping = runner.stop(2);
    kubeconfig.resolve(undefined);
    await stopping;
    // Give a process that was started anyway the time to show up.
    await new Promise((r) => setTimeout(r, 300));
    const leaked = started().filter(alive);
    expect(leaked, `container processes left running after stop(): ${leaked.join(', ')}`).to.deep.equal([]);
    expect(runner.status().containerStatuses?.[0]?.state?.running, 'reported running after stop').to.equal(undefined);
  });

  it('retries a failed sandbox creation instead of leaving the pod Pending for good', async () => {
    let failures = 1;
    const flaky: PodNetwork = {
      ...net,
      createSandbox: (key): Promise<PodSandbox> =>
        failures-- > 0 ? Promise.reject(new Error('RTNETLINK answers: File exists')) : net.createSandbox(key),
    };
    const runner = new PodRunner(sleepingPod, deps({ network: flaky }));
    runner.start();
    try {
      const waiting = await waitFor(
        () => {
          const w = runner.status().containerStatuses?.[0]?.state?.waiting;
          return w?.reason === 'CreateContainerError' ? w : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 20, what: 'the sandbox failure reported' },
      );
      expect(waiting.message).to.contain('failed to create pod sandbox: Error: RTNETLINK answers: File exists');
      await waitFor(() => (runner.status().phase === 'Running' ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'the pod running after a retry' });
    } finally {
      await runner.stop(2);
    }
  });
});

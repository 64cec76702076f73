import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { waitFor } from '../../harness/net-utils.js';
import { startTestbed, type Testbed } from '../../harness/testbed.js';

const run = promisify(execFile);
const fakeCli = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));
const worker = 'ghcr.io/kennel-dev/kennel-worker:0.1.0';

/**
 * The node agent where a pod once stayed Pending for good in CI (one TrainingRun of three started
 * at once): a pod network left dirty by an earlier test bed, a burst of pods, a status write lost.
 */
describe('test bed: node agent under leftovers, bursts and lost writes', function () {
  this.timeout(120_000);
  let tb: Testbed;
  let core: CoreV1Api;
  const ns = 'resilience';
  const staleLinks: string[] = [];

  before(async function () {
    this.timeout(180_000);
    tb = await startTestbed({ cliPath: fakeCli });
    core = tb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await waitFor(() => core.readNamespacedServiceAccount({ name: 'default', namespace: ns }).then(() => true), {
      timeoutMs: 30_000,
      what: 'default service account',
    });
  });
  after(async () => {
    await tb?.stop();
    for (const link of staleLinks) if (existsSync(`/sys/class/net/${link}`)) await run('ip', ['link', 'del', link]).catch(() => undefined);
  });

  const createPod = (name: string, spec: V1Pod['spec']): Promise<V1Pod> =>
    core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: spec! } });

  const podWhen = (name: string, what: string, check: (p: V1Pod) => boolean, timeoutMs = 30_000): Promise<V1Pod> =>
    waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name, namespace: ns });
        return check(p) ? p : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `pod ${name} ${what}` },
    );

  // First, while no pod has had an address yet: the next sandbox is 10.244.N.2.
  it('runs a pod whose address still has a host veth, left by a pod process that outlived an earlier test bed', async function () {
    if (tb.network.mode !== 'netns') {
      console.log(`      skipped: loopback pod network (${tb.network.fallbackReason ?? ''})`);
      this.skip();
    }
    const subnet = tb.network.podCidr.split('.')[2];
    const stale = `knv${subnet}x2`;
    staleLinks.push(stale, `${stale}p`);
    await run('ip', ['link', 'add', stale, 'type', 'veth', 'peer', 'name', `${stale}p`]);
    await createPod('after-leftover', { restartPolicy: 'Never', containers: [{ name: 'main', image: worker, args: ['exit', '0'] }] });
    const pod = await podWhen('after-leftover', 'succeeded', (p) => p.status?.phase === 'Succeeded', 20_000).catch(async (err: unknown) => {
      const p = await core.readNamespacedPod({ name: 'after-leftover', namespace: ns });
      throw new Error(`${String(err)}; status: ${JSON.stringify(p.status?.containerStatuses?.[0]?.state)}`);
    });
    expect(pod.status?.podIP).to.equal(`10.244.${subnet}.2`);
  });

  it('starts every pod of a burst created at once, each with its own address', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
    await Promise.all(names.map((n) => createPod(n, { restartPolicy: 'Never', containers: [{ name: 'main', image: worker, args: ['exit', '0'] }] })));
    const pods = await Promise.all(names.map((n) => podWhen(n, 'succeeded', (p) => p.status?.phase === 'Succeeded')));
    const ips = pods.map((p) => p.status?.podIP);
    expect(new Set(ips).size, `addresses ${ips.join(', ')}`).to.equal(names.length);
  });

  it('writes a pod status again when the API server does not have it (a lost status write)', async () => {
    await createPod('lost-write', { containers: [{ name: 'main', image: worker, args: ['sleep'] }] });
    const running = await podWhen('lost-write', 'running', (p) => p.status?.phase === 'Running');
    // What the API server shows when the node's write of "running" was lost: still creating.
    await core.replaceNamespacedPodStatus({
      name: 'lost-write',
      namespace: ns,
      body: {
        ...running,
        status: {
          ...running.status,
          phase: 'Pending',
          containerStatuses: running.status?.containerStatuses?.map((c) => ({ ...c, ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } })),
        },
      },
    });
    const pod = await podWhen('lost-write', 'running again', (p) => p.status?.phase === 'Running', 10_000);
    expect(pod.status?.containerStatuses?.[0]?.state?.running).to.not.equal(undefined);
    await core.deleteNamespacedPod({ name: 'lost-write', namespace: ns, gracePeriodSeconds: 1 });
  });
});

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { createReadyNamespace } from '../../harness/namespace.js';
import { startNodeAgent } from '../../../local-cluster/node-agent/node-agent.js';
import { startTestbed, type Testbed } from '../../../local-cluster/testbed.js';

const run = promisify(execFile);
const fakeCli = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));
const worker = 'ghcr.io/kennel-dev/kennel-worker:0.1.0';

/**
 * A TCP relay to the API server that can hold new connections (not yet connected upstream)
 * until released: a request made while held reaches the API server only at release. TLS passes
 * through untouched (the serving certificate names 127.0.0.1).
 */
async function startHoldingRelay(upstream: URL): Promise<{ url: string; hold(): void; release(): void; held(): number; close(): Promise<void> }> {
  let holding = false;
  const queue: Socket[] = [];
  const sockets = new Set<Socket>();
  const pipe = (client: Socket): void => {
    const up = connect(Number(upstream.port), upstream.hostname);
    sockets.add(up);
    client.pipe(up).pipe(client);
    const done = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on('error', done).on('close', done);
    up.on('error', done).on('close', done);
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.pause();
    if (holding) queue.push(client);
    else pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const c of queue.splice(0)) pipe(c);
    },
    held: () => queue.length,
    close: () => {
      for (const sock of sockets) sock.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Processes whose environment names a pod directory below `dir` (pods of that node agent). */
function podProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`KENNEL_POD_DIR=${dir}`)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

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
    await createReadyNamespace(core, ns);
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

  it('starts no pod once stopped, even from a reconcile pass that was waiting on the API server', async () => {
    // A second node agent (node kennel-node-2) talks to the API server through a relay that holds
    // its pod list while stop() runs; the list then brings a pod bound to that node. Before, the
    // pass started it after stop() had stopped every runner it knew: the process ran on, unowned,
    // and kept its network namespace and host veth alive into the next test bed on this subnet.
    const relay = await startHoldingRelay(new URL(tb.server));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: tb.kubeConfig.clusters.map((c) => ({ ...c, server: relay.url })),
      users: tb.kubeConfig.users,
      contexts: tb.kubeConfig.contexts,
      currentContext: tb.kubeConfig.currentContext,
    });
    const dir = join(tb.dir, 'node-2');
    const pki = join(tb.dir, 'pki');
    const agent = await startNodeAgent({
      kubeConfig: kc,
      dir,
      network: tb.network,
      podApiServer: tb.server,
      caCert: join(pki, 'ca.crt'),
      kubeletCert: join(pki, 'serving.crt'),
      kubeletKey: join(pki, 'serving.key'),
      nodeName: 'kennel-node-2',
      cliPath: fakeCli,
    });
    let stopped = false;
    try {
      relay.hold();
      await createPod('late', { nodeName: 'kennel-node-2', automountServiceAccountToken: false, containers: [{ name: 'main', image: worker, args: ['sleep'] }] });
      // The pod's watch event (or the 2 s tick) starts a pass, whose list is now held.
      await waitFor(() => (relay.held() > 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'a held request of the second agent' });
      await agent.stop();
      stopped = true;
      relay.release();
      await new Promise((r) => setTimeout(r, 2_000));
      const leaked = podProcessesUnder(dir);
      for (const pid of leaked) process.kill(pid, 'SIGKILL');
      expect(leaked, `pod processes of the stopped agent still running: ${leaked.join(', ')}`).to.deep.equal([]);
      const agentLog = readFileSync(join(dir, 'node-agent.log'), 'utf8');
      expect(agentLog).to.not.contain('"message":"pod starting","pod":"resilience/late"');
    } finally {
      if (!stopped) await agent.stop();
      relay.release();
      await relay.close();
      await core.deleteNamespacedPod({ name: 'late', namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
      await core.deleteNode({ name: 'kennel-node-2' }).catch(() => undefined);
    }
  });
});

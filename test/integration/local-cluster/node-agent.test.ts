import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type V1Container, type V1Endpoint, type V1LifecycleHandler, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { createReadyNamespace } from '../../harness/namespace.js';
import { fakeWebDeployment, fakeWebService } from './fixtures/web.js';
import { startTestbed, type Testbed } from '../../../local-cluster/testbed.js';

const fakeCli = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));
const worker = 'ghcr.io/kennel-dev/kennel-worker:0.1.0';

/**
 * The node agent, driven through the real API server, with a stand-in CLI (fixtures/fake-cli.mjs)
 * so that environment, exit codes, termination messages, probes and restarts can be asserted
 * independently of Kennel's own subcommands.
 */
describe('test bed: node agent', function () {
  this.timeout(120_000);
  let tb: Testbed;
  let core: CoreV1Api;
  const ns = 'agent';

  before(async function () {
    this.timeout(180_000);
    tb = await startTestbed({ cliPath: fakeCli });
    core = tb.kubeConfig.makeApiClient(CoreV1Api);
    await createReadyNamespace(core, ns);
  });
  after(async () => {
    await tb?.stop();
  });

  const createPod = (name: string, spec: V1Pod['spec']): Promise<V1Pod> =>
    core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: { app: name } }, spec: spec! } });

  const podWhen = (name: string, what: string, check: (p: V1Pod) => boolean, timeoutMs = 60_000): Promise<V1Pod> =>
    waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name, namespace: ns });
        return check(p) ? p : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `pod ${name} ${what}` },
    );

  it('registers a Ready node with this machine’s capacity', async () => {
    const node = await core.readNode({ name: tb.nodeAgent.nodeName });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(Number(node.status?.capacity?.cpu)).to.be.greaterThan(0);
    expect(node.status?.capacity?.memory).to.match(/^\d+Ki$/);
  });

  it('runs a pod with env from ConfigMaps, Secrets and the downward API, and a service-account kubeconfig', async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cfg' }, data: { MODE: 'fast', EXTRA: 'x' } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'sec' }, stringData: { token: 's3cret' } } });
    await createPod('env', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: worker,
          args: ['env'],
          envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
          env: [
            { name: 'PLAIN', value: 'a-$(CFG_MODE)' },
            { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
            { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
        },
      ],
    });
    const pod = await podWhen('env', 'succeeded', (p) => p.status?.phase === 'Succeeded');
    const line = tb.nodeAgent.readLog(ns, 'env').split('\n').find((l) => l.startsWith('{'));
    const env = JSON.parse(line ?? '{}') as Record<string, string>;
    expect(env).to.include({ PLAIN: 'a-fast', FROM_CM: 'fast', FROM_SECRET: 's3cret', POD_NAME: 'env', POD_NS: ns, CFG_EXTRA: 'x' });
    expect(env.POD_IP).to.equal(pod.status?.podIP);
    expect(env.KUBECONFIG).to.be.a('string');
    expect(env.HOME).to.contain(tb.dir);
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.reason).to.equal('Completed');
    expect(terminated?.exitCode).to.equal(0);
  });

  it('reports exit codes and termination messages, including FallbackToLogsOnError', async () => {
    await createPod('fails', {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: worker, args: ['exit', '1', '{"outcome":"failed"}'] }],
    });
    await createPod('fails-logs', {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: worker, args: ['exit', '7'], terminationMessagePolicy: 'FallbackToLogsOnError' }],
    });
    const a = await podWhen('fails', 'failed', (p) => p.status?.phase === 'Failed');
    const ta = a.status?.containerStatuses?.[0]?.state?.terminated;
    expect(ta).to.include({ exitCode: 1, reason: 'Error', message: '{"outcome":"failed"}' });
    const b = await podWhen('fails-logs', 'failed', (p) => p.status?.phase === 'Failed');
    const tb7 = b.status?.containerStatuses?.[0]?.state?.terminated;
    expect(tb7?.exitCode).to.equal(7);
    expect(tb7?.message).to.contain('last words on stderr');
  });

  it('fails pods of other images with ErrImagePull / ImagePullBackOff', async () => {
    await createPod('nginx', { containers: [{ name: 'main', image: 'nginx:1.27' }] });
    const pod = await podWhen('nginx', 'in image pull back-off', (p) =>
      ['ErrImagePull', 'ImagePullBackOff'].includes(p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ''),
    );
    expect(pod.status?.phase).to.equal('Pending');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).to.contain('nginx:1.27');
  });

  it('restarts a failing container under OnFailure and becomes ready through its readiness probe', async () => {
    await createPod('crashy', {
      restartPolicy: 'OnFailure',
      containers: [
        {
          name: 'main',
          image: worker,
          args: ['crash-once', 'crashed-once.marker'],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
        },
      ],
    });
    const pod = await podWhen('crashy', 'ready after a restart', (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    const cs = pod.status?.containerStatuses?.[0];
    expect(cs?.restartCount).to.equal(1);
    expect(cs?.lastState?.terminated?.exitCode).to.equal(3);
    expect(pod.status?.phase).to.equal('Running');
    // The pod's IP is reachable from the test process.
    const res = await fetch(`http://${pod.status?.podIP}:8080/hostname`);
    expect(await res.text()).to.equal('crashy');
  });

  it('serves pod logs through the API server (kubectl logs)', async () => {
    const { stdout } = await tb.kubectl(['logs', '-n', ns, 'fails']);
    expect(stdout).to.contain('bye');
  });

  it('runs a Deployment whose pods answer over their Service, and stops pods on deletion', async () => {
    const apps = tb.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: fakeWebDeployment('web', {
        replicas: 2,
        terminationGracePeriodSeconds: 5,
        container: {
          env: [{ name: 'READY_AFTER_MS', value: '500' }],
          livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 2 },
        },
      }),
    });
    await core.createNamespacedService({ namespace: ns, body: fakeWebService('web') });
    await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
        return d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') && d.status.readyReplicas === 2 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'deployment web to be Available with 2 ready replicas' },
    );
    const url = await tb.serviceUrl(ns, 'web', 80);
    const res = await fetch(`${url}/hostname`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/^web-/);

    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
    const victim = pods.items[0]!;
    await core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: ns });
    await waitFor(
      () => core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns }).then(() => undefined, () => true),
      { timeoutMs: 30_000, what: 'the deleted pod to be gone' },
    );
    expect(tb.nodeAgent.readLog(ns, victim.metadata!.name!)).to.contain('got SIGTERM');
    const stillThere = await fetch(`http://${victim.status!.podIP}:8080/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      () => true,
      () => false,
    );
    expect(stillThere).to.equal(false);
  });

  /** The fake worker serving on 8080 with a readiness probe and the given preStop hook. */
  const servingContainer = (preStop: V1LifecycleHandler): V1Container => ({
    name: 'main',
    image: worker,
    args: ['serve', '8080'],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
    lifecycle: { preStop },
  });
  const logTime = (log: string, what: string): number | undefined => {
    const m = new RegExp(`${what} at (\\d+)`).exec(log);
    return m ? Number(m[1]) : undefined;
  };

  it('on deletion runs the preStop sleep first: the pod answers while its endpoint is terminating, then SIGTERM, then it is gone', async () => {
    const discovery = tb.kubeConfig.makeApiClient(DiscoveryV1Api);
    await createPod('drain', {
      terminationGracePeriodSeconds: 10,
      containers: [servingContainer({ sleep: { seconds: 4 } })],
    });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'drain' }, spec: { selector: { app: 'drain' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    });
    const endpointOf = async (ip: string): Promise<V1Endpoint | undefined> => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=drain' });
      return slices.items.flatMap((sl) => sl.endpoints).find((e) => e.addresses.includes(ip));
    };
    const pod = await podWhen('drain', 'ready', (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    const ip = pod.status!.podIP!;
    await waitFor(async () => ((await endpointOf(ip))?.conditions?.ready === true ? true : undefined), { timeoutMs: 30_000, what: 'a ready endpoint for pod drain' });

    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ name: 'drain', namespace: ns });
    // During the sleep: out of rotation (not ready, terminating) but still serving and answering.
    const terminating = await waitFor(async () => {
      const e = await endpointOf(ip);
      return e?.conditions?.terminating === true ? e : undefined;
    }, { timeoutMs: 3_000, intervalMs: 100, what: 'the endpoint of pod drain to be terminating' });
    expect(terminating.conditions).to.include({ ready: false, serving: true, terminating: true });
    const res = await fetch(`http://${ip}:8080/hostname`, { signal: AbortSignal.timeout(1_000) });
    expect(await res.text()).to.equal('drain');
    expect(tb.nodeAgent.readLog(ns, 'drain')).to.not.contain('got SIGTERM');
    // Then SIGTERM, no earlier than the sleep, well before the grace deadline; then the pod is gone.
    await waitFor(() => core.readNamespacedPod({ name: 'drain', namespace: ns }).then(() => undefined, () => true), { timeoutMs: 20_000, what: 'pod drain to be gone' });
    const sigtermAt = logTime(tb.nodeAgent.readLog(ns, 'drain'), 'got SIGTERM');
    expect(sigtermAt, 'SIGTERM in the pod log').to.be.a('number');
    expect(sigtermAt! - deletedAt).to.be.within(4_000, 9_000);
  });

  it('runs a preStop httpGet hook before SIGTERM', async () => {
    await createPod('hooked', {
      terminationGracePeriodSeconds: 10,
      containers: [servingContainer({ httpGet: { path: '/prestop', port: 'http' } })],
    });
    await podWhen('hooked', 'ready', (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    await core.deleteNamespacedPod({ name: 'hooked', namespace: ns });
    await waitFor(() => core.readNamespacedPod({ name: 'hooked', namespace: ns }).then(() => undefined, () => true), { timeoutMs: 20_000, what: 'pod hooked to be gone' });
    const log = tb.nodeAgent.readLog(ns, 'hooked');
    const hookAt = logTime(log, 'preStop hook called');
    const sigtermAt = logTime(log, 'got SIGTERM');
    expect(hookAt, log).to.be.a('number');
    expect(sigtermAt, log).to.be.a('number');
    expect(hookAt!).to.be.at.most(sigtermAt!);
  });
});

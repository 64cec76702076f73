import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Storage } from '@google-cloud/storage';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { pinnedVersion } from '../../../scripts/testbed/layout.js';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { createReadyNamespace } from '../../harness/namespace.js';
import { createTinyArtifact } from '../serve/helpers.js';
import { startTestbed, type Testbed } from '../../../local-cluster/testbed.js';

const cliPath = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const pkgVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const worker = 'ghcr.io/kennel-dev/kennel-worker:0.1.0';

async function rejection(p: Promise<unknown>): Promise<{ code?: number; body?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: number; body?: string };
  }
  throw new Error('expected the API server to reject the request');
}

/** The test bed itself: the real API server, controllers, CRDs, GCS emulator, and the built CLI on the node. */
describe('test bed: control plane, controllers, CRDs, GCS', function () {
  this.timeout(120_000);
  let tb: Testbed;
  let core: CoreV1Api;
  const ns = 'testbed';

  before(async function () {
    this.timeout(180_000);
    if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` before the integration tests`);
    const t0 = Date.now();
    tb = await startTestbed();
    process.stdout.write(`      (test bed warm start: ${((Date.now() - t0) / 1000).toFixed(1)}s, ${JSON.stringify(tb.timings)}; pod network: ${tb.network.mode})\n`);
    core = tb.kubeConfig.makeApiClient(CoreV1Api);
    await createReadyNamespace(core, ns);
  });
  after(async () => {
    await tb?.stop();
  });

  it('reports the pinned Kubernetes release (not v0.0.0-master) from server and kubectl', async () => {
    const { stdout } = await tb.kubectl(['version', '-o', 'json']);
    const v = JSON.parse(stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    const pinned = pinnedVersion('kubernetes', 'k8s.io/kubernetes');
    expect(v.serverVersion.gitVersion).to.equal(pinned);
    expect(v.clientVersion.gitVersion).to.equal(pinned);
  });

  it('validates a CRD with a CEL rule and rejects a bad object', async () => {
    const ext = tb.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.kennel.dev' },
        spec: {
          group: 'example.kennel.dev',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      properties: { min: { type: 'integer' }, max: { type: 'integer' } },
                      x_kubernetes_validations: [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }],
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const custom = tb.kubeConfig.makeApiClient(CustomObjectsApi);
    const create = (name: string, spec: object): Promise<unknown> =>
      custom.createNamespacedCustomObject({
        group: 'example.kennel.dev',
        version: 'v1',
        namespace: ns,
        plural: 'widgets',
        body: { apiVersion: 'example.kennel.dev/v1', kind: 'Widget', metadata: { name }, spec },
      });
    // The CRD becomes usable asynchronously.
    await waitFor(() => create('good', { min: 1, max: 2 }).then(() => true), { timeoutMs: 30_000, what: 'the Widget CRD to serve' });
    const err = await rejection(create('bad', { min: 3, max: 2 }));
    expect(err.code).to.equal(422);
    expect(err.body).to.contain('min must not exceed max');
  });

  it('installs the PodMonitoring CRD, which rejects an endpoint without an interval', async () => {
    const custom = tb.kubeConfig.makeApiClient(CustomObjectsApi);
    const create = (name: string, endpoint: object): Promise<unknown> =>
      custom.createNamespacedCustomObject({
        group: 'monitoring.googleapis.com',
        version: 'v1',
        namespace: ns,
        plural: 'podmonitorings',
        body: {
          apiVersion: 'monitoring.googleapis.com/v1',
          kind: 'PodMonitoring',
          metadata: { name },
          spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [endpoint] },
        },
      });
    await create('ok', { port: 'metrics', interval: '30s' });
    const err = await rejection(create('no-interval', { port: 'metrics' }));
    expect(err.code).to.equal(422);
    expect(err.body).to.contain('interval');
  });

  it('runs a Job whose pod runs `kennel --version` to completion', async () => {
    const batch = tb.kubeConfig.makeApiClient(BatchV1Api);
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'version' },
        spec: {
          backoffLimit: 0,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'kennel', image: worker, args: ['--version'] }] } },
        },
      },
    });
    const job = await waitFor(
      async () => {
        const j = await batch.readNamespacedJob({ name: 'version', namespace: ns });
        return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
      },
      { timeoutMs: 60_000, what: 'job version to complete' },
    );
    expect(job.status?.succeeded).to.equal(1);
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'batch.kubernetes.io/job-name=version' });
    const pod = pods.items[0]!;
    expect(pod.status?.phase).to.equal('Succeeded');
    expect(tb.nodeAgent.readLog(ns, pod.metadata!.name!)).to.contain(pkgVersion);
  });

  it('garbage-collects children when their owner is deleted', async () => {
    const apps = tb.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'owner' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'owner' } },
          template: {
            metadata: { labels: { app: 'owner' } },
            // An image the node cannot pull: the pod exists (Pending) without running anything.
            spec: { containers: [{ name: 'main', image: 'example.invalid/unpullable:1' }] },
          },
        },
      },
    });
    await waitFor(
      async () => ((await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=owner' })).items.length === 1 ? true : undefined),
      { timeoutMs: 30_000, what: 'the deployment to create its pod' },
    );
    await apps.deleteNamespacedDeployment({ name: 'owner', namespace: ns, propagationPolicy: 'Background' });
    await waitFor(
      async () => {
        const [rs, pods] = await Promise.all([
          apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=owner' }),
          core.listNamespacedPod({ namespace: ns, labelSelector: 'app=owner' }),
        ]);
        return rs.items.length === 0 && pods.items.length === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the ReplicaSet and pod to be garbage-collected' },
    );
  });

  it('runs a Deployment of `kennel serve` pods that becomes Available and answers over its Service', async function () {
    this.timeout(240_000);
    const artifact = await createTinyArtifact();
    try {
      const apps = tb.kubeConfig.makeApiClient(AppsV1Api);
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: 'serve' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'serve' } },
            template: {
              metadata: { labels: { app: 'serve' } },
              spec: {
                containers: [
                  {
                    name: 'serve',
                    image: worker,
                    args: ['serve', '--model', artifact.uri, '--port', '8080', '--workers', '0'],
                    ports: [{ name: 'http', containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1, failureThreshold: 300 },
                    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5, failureThreshold: 6 },
                  },
                ],
              },
            },
          },
        },
      });
      await core.createNamespacedService({
        namespace: ns,
        body: { metadata: { name: 'serve' }, spec: { selector: { app: 'serve' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      });
      await waitFor(
        async () => {
          const d = await apps.readNamespacedDeployment({ name: 'serve', namespace: ns });
          return d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') && d.status.availableReplicas === 1 ? true : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 500, what: 'deployment serve to become Available' },
      );
      const url = await tb.serviceUrl(ns, 'serve', 80);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).to.equal(200);
      const metrics = await fetch(`${url}/metrics`);
      expect(await metrics.text()).to.contain('kennel_');
    } finally {
      await artifact.cleanup();
    }
  });

  it('answers @google-cloud/storage on its GCS endpoint', async () => {
    const storage = new Storage({ apiEndpoint: tb.gcsEndpoint, projectId: 'kennel-test' });
    const [bucket] = await storage.createBucket('testbed-bucket');
    await bucket.file('hello.txt').save('hi', { resumable: false });
    const [got] = await bucket.file('hello.txt').download();
    expect(got.toString()).to.equal('hi');
  });
});

import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP, VERSION } from '../../../src/shared/api/common.js';
import { buildCrds } from '../../../src/shared/api/crd.js';
import { exampleBatchPrediction, exampleInferenceService, exampleModelVersion, exampleTrainingRun, exampleTrainingSweep, INVALID_CASES } from '../../fixtures/api-examples.js';
import { desiredBatchJob } from '../../../src/operator/batch-prediction/desired.js';
import { startEtcd, type Etcd } from '../../../local-cluster/etcd.js';
import { installCrds, readCrds, thirdPartyCrdDir } from '../../../local-cluster/install-crds.js';
import { startKubeApiserver, type KubeApiserver } from '../../../local-cluster/kube-apiserver.js';
import { renderKubeconfig } from '../../../local-cluster/kubeconfig.js';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { desiredServingObjects } from '../../../src/operator/inference-service/desired.js';
import { desiredModelVersion } from '../../../src/operator/model-version/desired.js';
import { desiredJob } from '../../../src/operator/training-run/desired.js';
import { createPki, type Pki } from '../../../local-cluster/pki.js';

/**
 * Kennel's generated CRDs (crds/) in a real kube-apiserver (etcd + apiserver of the test bed;
 * nothing else is needed to judge admission): they are accepted as structural, the examples are
 * admitted, every invalid case is rejected with its human message (schema or CEL), ModelVersion
 * specs are immutable while their status is writable, and the server's Table view — what
 * `kubectl get` prints — has the printer columns. Also: every object the pure renderers produce
 * (Job, ModelVersion, Deployments, Service, PDB, HPA, PodMonitoring) passes a server-side dry run.
 */

const crdDir = fileURLToPath(new URL('../../../crds/', import.meta.url));
const plural = { TrainingRun: 'trainingruns', ModelVersion: 'modelversions', InferenceService: 'inferenceservices', BatchPrediction: 'batchpredictions', TrainingSweep: 'trainingsweeps' } as const;

async function rejection(p: Promise<unknown>): Promise<{ code?: number; body?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: number; body?: string };
  }
  throw new Error('expected the API server to reject the request');
}

interface Table {
  columnDefinitions: { name: string; priority?: number }[];
  rows: { cells: unknown[] }[];
}

/** GET as meta.k8s.io Table, as kubectl asks for it. */
function getTable(server: string, pki: Pki, path: string): Promise<Table> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server}${path}`,
      {
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Table) : reject(new Error(`${res.statusCode}: ${body}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('CRDs in a real kube-apiserver', function () {
  this.timeout(60_000);
  const ns = 'api-crds';
  let dir: string;
  let pki: Pki;
  let etcd: Etcd | undefined;
  let apiserver: KubeApiserver | undefined;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;

  /** Creates `body` in the test namespace (the examples say `default`). */
  const create = (kind: keyof typeof plural, body: { metadata: object }) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: plural[kind],
      body: { ...body, metadata: { ...body.metadata, namespace: ns } },
    });

  before(async function () {
    this.timeout(120_000);
    dir = mkdtempSync(join(tmpdir(), 'kennel-crds-'));
    mkdirSync(join(dir, 'pki'));
    pki = await createPki({ dir: join(dir, 'pki'), ips: ['127.0.0.1', '10.96.0.1'], dnsNames: ['localhost', 'kubernetes.default.svc'] });
    etcd = await startEtcd({ dir });
    apiserver = await startKubeApiserver({ dir, pki, etcdEndpoint: etcd.endpoint, host: '127.0.0.1' });
    kc = new KubeConfig();
    kc.loadFromString(renderKubeconfig({ server: apiserver.server, caCert: pki.caCert, credentials: { clientCert: pki.adminCert, clientKey: pki.adminKey } }));
    await installCrds(kc, readCrds([crdDir, thirdPartyCrdDir]));
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await apiserver?.process.stop(5_000);
    await etcd?.process.stop(5_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('are accepted as structural, established, and keep their validation rules', async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const [, crd] of buildCrds()) {
      const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
      const conds = Object.fromEntries((got.status?.conditions ?? []).map((c) => [c.type, c.status]));
      expect(conds, crd.metadata.name).to.include({ Established: 'True', NamesAccepted: 'True' });
      expect(conds.NonStructuralSchema, crd.metadata.name).to.equal(undefined);
      expect(got.spec.names.shortNames).to.deep.equal(crd.spec.names.shortNames);
      expect(got.spec.names.categories).to.deep.equal(['kennel']);
    }
    const isvc = await ext.readCustomResourceDefinition({ name: 'inferenceservices.kennel.dev' });
    expect(JSON.stringify(isvc.spec.versions[0]?.schema)).to.contain('set exactly one of model');
  });

  it('admit the valid examples, and status through the status subresource', async () => {
    await waitFor(() => create('TrainingRun', exampleTrainingRun('good-run')).then(() => true), { timeoutMs: 30_000, what: 'the TrainingRun CRD to serve' });
    await create('ModelVersion', exampleModelVersion('cats-dogs-v1', 1));
    await create('InferenceService', exampleInferenceService('web'));
    await create('BatchPrediction', exampleBatchPrediction('relabel'));
    await create('TrainingSweep', exampleTrainingSweep('search'));
    const named = exampleBatchPrediction('by-version');
    named.spec.model = { modelVersion: 'cats-dogs-v1' };
    named.spec.input.uri = 'gs://bucket/photos';
    named.spec.outputUri = 'gs://bucket/photos-labels';
    await create('BatchPrediction', named);
    // a fraction written as the integer 0 is still a number to the CEL rule
    const ints = exampleTrainingRun('int-fractions');
    ints.spec.split = { train: 0.8, validation: 0, test: 0.2 };
    await create('TrainingRun', ints);
    await custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'trainingruns',
      name: 'good-run',
      body: [
        {
          op: 'add',
          path: '/status',
          value: {
            phase: 'Running',
            observedGeneration: 1,
            progress: { epoch: 3, epochs: 10, summary: '3/10', valAccuracy: 0.71 },
            conditions: [{ type: 'Ready', status: 'False', reason: 'Training', message: 'epoch 3/10', lastTransitionTime: '2026-01-01T00:00:00Z' }],
          },
        },
      ],
    });
  });

  it('show phase, progress, accuracy and serving version as kubectl columns', async () => {
    const server = apiserver?.server ?? '';
    const runs = await getTable(server, pki, `/apis/${GROUP}/${VERSION}/namespaces/${ns}/trainingruns`);
    expect(runs.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'Model', 'Phase', 'Progress', 'Val-Accuracy', 'Accuracy', 'Version', 'Reason', 'Age']);
    const good = runs.rows.find((r) => r.cells[0] === 'good-run');
    expect(good?.cells.slice(1, 5)).to.deep.equal(['cats-dogs', 'Running', '3/10', 0.71]);
    const mvs = await getTable(server, pki, `/apis/${GROUP}/${VERSION}/namespaces/${ns}/modelversions`);
    expect(mvs.rows[0]?.cells.slice(0, 3)).to.deep.equal(['cats-dogs-v1', 'cats-dogs', 1]);
    expect(mvs.columnDefinitions.map((c) => c.name)).to.include.members(['Accuracy', 'Phase']);
    const isvcs = await getTable(server, pki, `/apis/${GROUP}/${VERSION}/namespaces/${ns}/inferenceservices`);
    expect(isvcs.columnDefinitions.map((c) => c.name)).to.include.members(['Serving', 'Canary', 'Weight', 'Ready', 'Phase', 'Age']);
    await custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'batchpredictions',
      name: 'relabel',
      body: [{ op: 'add', path: '/status', value: { phase: 'Running', modelVersion: 'cats-dogs-v1', shards: 3, progress: { done: 120, total: 300, failed: 2, shardsDone: 1, summary: '120/300', shards: [] } } }],
    });
    const batches = await getTable(server, pki, `/apis/${GROUP}/${VERSION}/namespaces/${ns}/batchpredictions`);
    expect(batches.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'Model-Version', 'Phase', 'Progress', 'Failed', 'Shards', 'Output', 'Reason', 'Age']);
    expect(batches.rows.find((r) => r.cells[0] === 'relabel')?.cells.slice(1, 6)).to.deep.equal(['cats-dogs-v1', 'Running', '120/300', 2, 3]);
    // A sweep's trial version shows it is not eligible for serving; the sweep its trials and best.
    const trial = exampleModelVersion('cats-dogs-v9', 9);
    trial.metadata.annotations = { 'kennel.dev/serving-eligible': 'false' };
    await create('ModelVersion', trial);
    const eligible = await getTable(server, pki, `/apis/${GROUP}/${VERSION}/namespaces/${ns}/modelversions`);
    const at = eligible.columnDefinitions.findIndex((c) => c.name === 'Eligible');
    expect(at).to.be.greaterThan(0);
    expect(eligible.rows.find((r) => r.cells[0] === 'cats-dogs-v9')?.cells[at]).to.equal('false');
    expect(eligible.rows.find((r) => r.cells[0] === 'cats-dogs-v1')?.cells[at], 'no annotation: blank').to.equal(null);
    await custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'trainingsweeps',
      name: 'search',
      body: [{ op: 'add', path: '/status', value: { phase: 'Running', summary: '1/8', running: 2, stopped: 1, objective: 'accuracy (Maximize)' } }],
    });
    const sweeps = await getTable(server, pki, `/apis/${GROUP}/${VERSION}/namespaces/${ns}/trainingsweeps`);
    expect(sweeps.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'Model', 'Phase', 'Trials', 'Running', 'Best', 'Objective', 'Metric', 'Stopped', 'Age']);
    expect(sweeps.columnDefinitions.find((c) => c.name === 'Stopped')?.priority, 'Stopped: kubectl get -o wide only').to.equal(1);
    const row = sweeps.rows.find((r) => r.cells[0] === 'search');
    expect(row?.cells.slice(1, 5)).to.deep.equal(['cats-dogs', 'Running', '1/8', 2]);
    expect(row?.cells[8]).to.equal(1);
  });

  for (const c of INVALID_CASES) {
    it(`reject ${c.title} with its message`, async () => {
      const err = await rejection(create(c.kind, c.make()));
      expect(err.code).to.equal(422);
      // The Status message as a person reads it (the raw body escapes < and > as \u003c, \u003e).
      const message = (JSON.parse(err.body ?? '{}') as { message?: string }).message ?? '';
      expect(message, err.body).to.contain(c.message);
    });
  }

  it('reject an InferenceService name that cannot be a Service name', async () => {
    const err = await rejection(create('InferenceService', exampleInferenceService('9-lives')));
    expect(err.code).to.equal(422);
    expect(err.body).to.contain('InferenceService names become Service names');
  });

  it('reject a change to a ModelVersion spec, but accept status updates', async () => {
    await create('ModelVersion', exampleModelVersion('cats-dogs-v2', 2));
    const target = { group: GROUP, version: VERSION, namespace: ns, plural: 'modelversions', name: 'cats-dogs-v2' };
    const err = await rejection(custom.patchNamespacedCustomObject({ ...target, body: [{ op: 'replace', path: '/spec/metrics/accuracy', value: 0.99 }] }));
    expect(err.code).to.equal(422);
    expect(err.body).to.contain('ModelVersion spec is immutable');
    await custom.patchNamespacedCustomObjectStatus({ ...target, body: [{ op: 'add', path: '/status', value: { phase: 'Passed' } }] });
    const got = (await custom.getNamespacedCustomObject(target)) as { status?: { phase?: string }; spec: { metrics: { accuracy: number } } };
    expect(got.status?.phase).to.equal('Passed');
    expect(got.spec.metrics.accuracy).to.equal(0.84);
  });

  it('accept every object the pure renderers produce (server-side dry run)', async () => {
    const objects = kc.makeApiClient(KubernetesObjectApi);
    const run = { ...exampleTrainingRun('dry-run'), metadata: { name: 'dry-run', namespace: ns, uid: '0b9a0f8e-0000-4000-8000-000000000001', generation: 1 } };
    const mvs = [exampleModelVersion('cats-dogs-v1', 1), exampleModelVersion('cats-dogs-v2', 2)];
    const isvc = { ...exampleInferenceService('web'), metadata: { name: 'web', namespace: ns, uid: '0b9a0f8e-0000-4000-8000-000000000002', generation: 1 } };
    const autoscaled = { ...isvc, spec: { ...isvc.spec, replicas: undefined, autoscaling: { minReplicas: 2, maxReplicas: 5 } } };
    const serving = desiredServingObjects(
      autoscaled,
      {
        stable: mvs[0] as (typeof mvs)[number],
        canary: { modelVersion: mvs[1] as (typeof mvs)[number], state: { modelVersion: 'cats-dogs-v2', step: 0, weight: 25, startedAt: '2026-01-01T00:00:00Z', stepStartedAt: '2026-01-01T00:00:00Z' } },
      },
      { image: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', podMonitoringAvailable: true, serviceAccountName: 'default' },
    );
    const outcome = {
      outcome: 'Succeeded' as const,
      artifactUri: 'gs://bucket/r',
      format: 'tfjs-layers' as const,
      sha256: 'c'.repeat(64),
      classes: ['cat', 'dog'],
      inputShape: [96, 96, 3],
      datasetUri: 'gs://data/d',
      datasetDigest: 'sha256:d',
      skippedFiles: 0,
      metrics: exampleModelVersion().spec.metrics,
      codeVersion: '0.1.0',
      backend: 'wasm',
    };
    const batch = { ...exampleBatchPrediction('dry-batch'), metadata: { name: 'dry-batch', namespace: ns, uid: '0b9a0f8e-0000-4000-8000-000000000003', generation: 1 } };
    const rendered: unknown[] = [
      desiredBatchJob(batch, mvs[0] as (typeof mvs)[number], { workerImage: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', artifactRoot: 'gs://bucket/kennel', serviceAccountName: 'default' }),
      desiredJob(run, { workerImage: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', artifactRoot: 'gs://bucket/kennel', serviceAccountName: 'default' }),
      desiredModelVersion({ run, outcome, version: 3, workerImage: 'ghcr.io/kennel-dev/kennel-worker:0.1.0' }),
      ...serving.deployments,
      serving.service,
      serving.pdb,
      serving.hpa,
      serving.podMonitoring,
    ];
    expect(rendered.filter((o) => o === undefined)).to.deep.equal([]);
    // the dry run does validate: a Deployment whose selector misses its pods is refused
    const broken = structuredClone(serving.deployments[0]) as KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> } } };
    broken.spec.selector.matchLabels = { 'kennel.dev/inference-service': 'someone-else' };
    const refused = await rejection(objects.create(broken, undefined, 'All'));
    expect(refused.code).to.equal(422);
    for (const obj of rendered) {
      const o = obj as KubernetesObject;
      try {
        await objects.create(o, undefined, 'All');
      } catch (err) {
        throw new Error(`${o.kind}/${o.metadata?.name} rejected: ${(err as { body?: string }).body ?? String(err)}`);
      }
    }
  });
});

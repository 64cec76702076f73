import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { compactEtcd, type Testbed } from '../../../local-cluster/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import { createTinyArtifact } from '../serve/helpers.js';
import { servingModelVersion } from './model-versions.js';
import { createNamespace, list, startBed, startInProcess, trainingRun, waitFor, waitForStatus, type Phased } from './helpers.js';

const NS = 'apifaults';
type Obj = KubeObject & Phased;
type Isvc = Obj & { status?: Phased['status'] & { currentModelVersion?: string; canary?: { modelVersion: string }; history?: Array<{ modelVersion: string; reason: string }> } };

/** The sum of a counter's series whose labels match `labels` (e.g. `resource="jobs"`), from Prometheus text. */
function counter(text: string, name: string, labels = ''): number {
  return [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].filter((m) => m[1]?.includes(labels)).reduce((n, m) => n + Number(m[2]), 0);
}

/**
 * Faults under a running operator, on one test bed. The API server goes away: the real
 * kube-apiserver is stopped and started again (etcd and the rest keep running), and etcd is
 * compacted so that no watch can resume where it stood. The leader is killed during a canary.
 * The figures each test prints are those in docs/reliability.md.
 */
describe('operator faults', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let kube: KubeClient;

  before(async function () {
    this.timeout(240_000);
    ({ bed, kube } = await startBed());
  });
  after(async () => {
    kube?.close();
    await bed?.stop();
  });

  describe('the API server goes away', () => {
    let operator: RunningOperator;

    before(async function () {
      this.timeout(60_000);
      await createNamespace(kube, NS);
      operator = await startInProcess(bed, { namespaces: [NS] });
    });
    after(async () => {
      await operator?.stop();
    });

    /** Stops kube-apiserver, keeps it down `downMs`, starts it again; the milliseconds it was unreachable. */
    async function apiServerOutage(downMs: number, whileDown?: () => Promise<void>): Promise<number> {
      const t0 = Date.now();
      await bed.stopKubeApiserver();
      await whileDown?.();
      await new Promise((r) => setTimeout(r, Math.max(0, downMs - (Date.now() - t0))));
      await bed.startKubeApiserver();
      return Date.now() - t0;
    }

    it('a watch that ends with 410 Gone (etcd compacted past it) relists, and the operator keeps reconciling', async () => {
      await kube.create(Resources.trainingRun, trainingRun(NS, 'before-gone', { model: 'gone', dataset: { uri: 'file:///data/acc-0.9/' }, hyperparameters: { epochs: 1 } }));
      await waitForStatus<Obj>(kube, Resources.trainingRun, NS, 'before-gone', (o) => o.status?.phase === 'Succeeded', 'before-gone to succeed');
      const before = await operator.registry.metrics();
      expect(counter(before, 'kennel_operator_informer_relists_total'), 'relists before any 410').to.equal(0);

      // A write the operator does not watch moves etcd's revision past every resourceVersion the
      // informers hold; compacting there removes them all, and the restarted API server's watch
      // cache starts at the current revision too: each watch's resume gets 410 Gone.
      await kube.create({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'revision-mark', namespace: NS } });
      const revision = await compactEtcd(bed.etcdEndpoint);
      const outageMs = await apiServerOutage(1_000);
      const up = Date.now();

      await kube.create(Resources.trainingRun, trainingRun(NS, 'after-gone', { model: 'gone', dataset: { uri: 'file:///data/acc-0.9/' }, hyperparameters: { epochs: 1 } }));
      const jobs = await waitFor(
        async () => {
          const found = await list(kube, Resources.job, NS, 'kennel.dev/training-run=after-gone');
          return found.length > 0 ? found : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250, what: 'the operator to create the Job of a run made after the 410' },
      );
      const reconciledMs = Date.now() - up;
      expect(jobs).to.have.length(1);
      await waitForStatus<Obj>(kube, Resources.trainingRun, NS, 'after-gone', (o) => o.status?.phase === 'Succeeded', 'after-gone to succeed', 90_000);

      const after = await operator.registry.metrics();
      for (const resource of ['trainingruns', 'modelversions', 'inferenceservices', 'batchpredictions', 'jobs', 'pods', 'deployments']) {
        expect(counter(after, 'kennel_operator_informer_relists_total', `resource="${resource}"`), `${resource} relisted after 410 Gone`).to.be.at.least(1);
      }
      // The relisted caches are whole: one Job per run, nothing duplicated or lost.
      const runs = await list<Obj>(kube, Resources.trainingRun, NS);
      expect(runs.map((r) => [r.metadata?.name, r.status?.phase]).sort()).to.deep.equal([
        ['after-gone', 'Succeeded'],
        ['before-gone', 'Succeeded'],
      ]);
      expect(await list(kube, Resources.job, NS)).to.have.length(2);
      console.log(`      410 Gone: compacted at revision ${revision}; API server down ${outageMs} ms; a new run's Job ${reconciledMs} ms after it was back`);
    });

    it('kube-apiserver stopped in the middle of reconciles: each run gets exactly one Job and one ModelVersion, and every status converges', async () => {
      const names = Array.from({ length: 6 }, (_, i) => `mid-${i}`);
      for (const name of names) {
        await kube.create(Resources.trainingRun, trainingRun(NS, name, { model: 'mid', dataset: { uri: 'file:///data/slow/acc-0.9/' }, hyperparameters: { epochs: 3 } }));
      }
      // Some Jobs are made, others not yet: the operator is mid-way through its queue.
      await waitFor(async () => ((await list(kube, Resources.job, NS, 'kennel.dev/training-run')).filter((j) => j.metadata?.name?.startsWith('mid-')).length >= 1 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'the first Job of the mid-* runs',
      });
      const restartsBefore = counter(await operator.registry.metrics(), 'kennel_operator_informer_restarts_total');
      const outageMs = await apiServerOutage(8_000);
      const up = Date.now();
      const runs = await waitFor(
        async () => {
          const all = (await list<Obj & { status?: { modelVersion?: string } }>(kube, Resources.trainingRun, NS)).filter((r) => names.includes(r.metadata?.name ?? ''));
          return all.length === names.length && all.every((r) => r.status?.phase === 'Succeeded' && r.status.modelVersion) ? all : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: 'every mid-* run to succeed and register its ModelVersion' },
      );
      const convergedMs = Date.now() - up;
      const jobs = (await list(kube, Resources.job, NS)).filter((j) => j.metadata?.name?.startsWith('mid-'));
      expect(jobs.map((j) => j.metadata?.labels?.['kennel.dev/training-run']).sort(), 'one Job per run').to.deep.equal(names);
      const versions = await list<KubeObject & { spec?: { version?: number } }>(kube, Resources.modelVersion, NS);
      const mine = versions.filter((v) => v.metadata?.name?.startsWith('mid-v'));
      expect(mine.map((v) => v.spec?.version).sort((a, b) => (a ?? 0) - (b ?? 0)), 'one ModelVersion per run, numbered without gaps').to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(new Set(runs.map((r) => r.status?.modelVersion)).size).to.equal(names.length);
      expect(counter(await operator.registry.metrics(), 'kennel_operator_informer_restarts_total'), 'the watches were restarted').to.be.above(restartsBefore);
      console.log(`      API server down ${outageMs} ms mid-reconcile; 6 runs converged ${convergedMs} ms after it was back; ${jobs.length} Jobs, ${mine.length} ModelVersions`);
    });

    it('kube-apiserver stopped in the middle of a rollout: no Deployment duplicated, the rollout finishes', async () => {
      const artifact = await createTinyArtifact();
      try {
        const sha256 = (JSON.parse(readFileSync(`${artifact.dir}/pets/v7/metadata.json`, 'utf8')) as { sha256: string }).sha256;
        await kube.create(Resources.modelVersion, servingModelVersion(NS, 'roll', 1, { uri: artifact.uri, sha256 }));
        await kube.create(Resources.inferenceService, {
          apiVersion: 'kennel.dev/v1alpha1',
          kind: 'InferenceService',
          metadata: { name: 'roll', namespace: NS },
          spec: { model: 'roll', replicas: 1, monitoring: { enabled: false }, rollout: { strategy: 'Rolling', progressDeadlineSeconds: 120 } },
        });
        await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'roll', (o) => o.status?.phase === 'Ready', 'roll-v1 Ready', 150_000);

        let mostDeployments = 0;
        const replicaSets = new Set<string>();
        const watchChildren = async () => {
          const [deps, rs] = await Promise.all([
            list(kube, Resources.deployment, NS, 'kennel.dev/inference-service=roll'),
            list(kube, { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true }, NS, 'kennel.dev/inference-service=roll'),
          ]);
          mostDeployments = Math.max(mostDeployments, deps.length);
          for (const r of rs) replicaSets.add(r.metadata?.name ?? '');
        };
        await kube.create(Resources.modelVersion, servingModelVersion(NS, 'roll', 2, { uri: artifact.uri, sha256 }));
        await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'roll', (o) => o.status?.canary?.modelVersion === 'roll-v2', 'roll-v2 rollout to start', 30_000);
        await watchChildren();
        const outageMs = await apiServerOutage(8_000);
        const up = Date.now();
        const done = await waitFor(
          async () => {
            await watchChildren();
            const o = await kube.get<Isvc>(Resources.inferenceService, NS, 'roll');
            return o?.status?.currentModelVersion === 'roll-v2' && !o.status.canary && o.status.phase === 'Ready' ? o : undefined;
          },
          { timeoutMs: 150_000, intervalMs: 250, what: 'roll-v2 to take over after the API server came back' },
        );
        const convergedMs = Date.now() - up;
        await waitFor(async () => ((await list(kube, Resources.deployment, NS, 'kennel.dev/inference-service=roll')).length === 1 ? true : undefined), {
          timeoutMs: 30_000,
          what: 'the Deployment of roll-v1 to be removed',
        });
        expect(mostDeployments, 'never more than the old and the new Deployment').to.be.at.most(2);
        expect([...replicaSets].map((n) => n.replace(/-[a-z0-9]+$/, '')).sort(), 'one ReplicaSet per Deployment (no pod template churn)').to.deep.equal(['roll-roll-v1', 'roll-roll-v2']);
        expect(done.status?.history?.map((h) => [h.modelVersion, h.reason])).to.deep.equal([
          ['roll-v1', 'Initial'],
          ['roll-v2', 'Promoted'],
        ]);
        console.log(`      API server down ${outageMs} ms mid-rollout; roll-v2 promoted ${convergedMs} ms after it was back; at most ${mostDeployments} Deployments, ${replicaSets.size} ReplicaSets`);
      } finally {
        await artifact.cleanup();
      }
    });
  });
});

import { expect } from 'chai';
import { compactEtcd, type Testbed } from '../../../local-cluster/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import { createNamespace, list, startBed, startInProcess, trainingRun, waitFor, waitForStatus, type Phased } from './helpers.js';

const NS = 'apifaults';
type Obj = KubeObject & Phased;

/** The sum of a counter's series whose labels match `labels` (e.g. `resource="jobs"`), from Prometheus text. */
function counter(text: string, name: string, labels = ''): number {
  return [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].filter((m) => m[1]?.includes(labels)).reduce((n, m) => n + Number(m[2]), 0);
}

/**
 * The API server goes away under a running operator: the real kube-apiserver of the test bed is
 * stopped and started again (etcd and the rest keep running), and etcd is compacted so that no
 * watch can resume where it stood. The figures each test prints are those in docs/reliability.md.
 */
describe('operator: the API server goes away', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let kube: KubeClient;
  let operator: RunningOperator;

  before(async function () {
    this.timeout(240_000);
    ({ bed, kube } = await startBed());
    await createNamespace(kube, NS);
    operator = await startInProcess(bed, { namespaces: [NS] });
  });
  after(async () => {
    await operator?.stop();
    kube?.close();
    await bed?.stop();
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
});

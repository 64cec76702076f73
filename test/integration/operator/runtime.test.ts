import { expect } from 'chai';
import { pino } from 'pino';
import type { Testbed } from '../../../local-cluster/index.js';
import { freePort } from '../../../local-cluster/net-utils.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { Resources, type ResourceRef } from '../../../src/operator/kube/resources.js';
import { systemClock } from '../../../src/shared/clock.js';
import { createInformer } from '../../../src/operator/runtime/informer.js';
import { createEventRecorder } from '../../../src/operator/kube/events.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import { createNamespace, list, spawnOperator, startBed, startInProcess, stopProcess, trainingRun, waitFor, type OperatorProcess } from './helpers.js';

const NS = 'rt';

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}
const metricValue = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"=,]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const reconcileCount = (text: string) =>
  [...text.matchAll(/^kennel_operator_reconciles_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);

/** The runtime against the real API server: health endpoints, informer restarts, leader election. */
describe('operator runtime', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let kube: KubeClient;

  before(async function () {
    this.timeout(180_000);
    ({ bed, kube } = await startBed());
    await createNamespace(kube, NS);
  });
  after(async () => {
    kube?.close();
    await bed?.stop();
  });

  it('serves /healthz, /readyz once the caches synced, and /metrics with zeroed series', async () => {
    let op: RunningOperator | undefined;
    try {
      op = await startInProcess(bed, { namespaces: [NS] });
      const base = `http://127.0.0.1:${op.healthPort}`;
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      await waitFor(async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), { timeoutMs: 20_000, what: '/readyz 200' });
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).to.include('kennel_operator_reconciles_total{controller="inferenceservice",result="error"} 0');
      expect(text).to.include('kennel_operator_leader 1');
      expect(text).to.include('kennel_operator_queue_depth{controller="trainingrun"}');
      // controller-runtime's work-queue metrics and the process's, from the running operator.
      expect(text).to.match(/^workqueue_adds_total\{name="trainingrun"\} \d+$/m);
      expect(text).to.match(/^workqueue_work_duration_seconds_count\{name="inferenceservice"\} \d+$/m);
      expect(text).to.match(/^kennel_operator_process_cpu_seconds_total \S+$/m);
      expect(text).to.match(/^kennel_operator_nodejs_eventloop_lag_seconds \S+$/m);
    } finally {
      await op?.stop();
    }
  });

  it('restarts a failed list+watch with backoff and reports not synced until it succeeds', async () => {
    // A kind that is not served yet: every list fails (404) until its CRD is installed.
    const widget: ResourceRef = { group: 'runtime.kennel.dev', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };
    let restarts = 0;
    const informer = createInformer<KubeObject>({
      kubeConfig: bed.kubeConfig,
      kube,
      resource: widget,
      namespaces: [NS],
      logger: pino({ level: 'silent' }),
      clock: systemClock(),
      backoff: { initialMs: 200, maxMs: 1_000 },
      onRestart: () => restarts++,
    });
    const seen: string[] = [];
    informer.onChange((o) => seen.push(o.metadata?.name ?? ''));
    const synced = informer.start();
    try {
      await waitFor(() => (restarts >= 2 ? true : undefined), { timeoutMs: 10_000, what: 'two restarts of the failing informer' });
      expect(informer.hasSynced()).to.equal(false);
      await bed.kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: 'widgets.runtime.kennel.dev' },
          spec: {
            group: 'runtime.kennel.dev',
            scope: 'Namespaced',
            names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
            versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
          },
        }),
      });
      await waitFor(() => kube.request({ path: '/apis/runtime.kennel.dev/v1' }).then(() => true), { timeoutMs: 30_000, what: 'the Widget CRD to be served' });
      await kube.create(widget, { apiVersion: 'runtime.kennel.dev/v1', kind: 'Widget', metadata: { name: 'w1', namespace: NS } });
      await synced;
      expect(informer.hasSynced()).to.equal(true);
      await waitFor(() => (seen.includes('w1') ? true : undefined), { timeoutMs: 10_000, what: 'the informer to see w1' });
      expect(informer.get(NS, 'w1')?.metadata?.name).to.equal('w1');
    } finally {
      await informer.stop();
    }
  });

  it('aggregates repeated Events as client-go does: one Event, its count and lastTimestamp bumped', async () => {
    let now = Date.parse('2026-04-01T12:00:00Z');
    const clock = { ...systemClock(), now: () => now };
    const recorder = createEventRecorder({ kube, clock, logger: pino({ level: 'silent' }), instance: 'test' });
    const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
    const cm = await kube.create<KubeObject>(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'events-subject', namespace: NS } });
    const subject = { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
    const rollback = { type: 'Warning', reason: 'ProgressDeadlineExceeded', message: 'rolled back pets-v3' } as const;
    for (let i = 0; i < 3; i++) {
      await recorder.record(subject, rollback);
      now += 30_000;
    }
    await recorder.record(subject, { type: 'Normal', reason: 'Promoted', message: 'pets-v4 promoted' });
    type Ev = KubeObject & { reason?: string; count?: number; firstTimestamp?: string; lastTimestamp?: string; involvedObject?: { uid?: string } };
    const events = (await list<Ev>(kube, Resources.event, NS)).filter((e) => e.involvedObject?.uid === cm.metadata?.uid);
    expect(events.map((e) => [e.reason, e.count]).sort()).to.deep.equal([
      ['ProgressDeadlineExceeded', 3],
      ['Promoted', 1],
    ]);
    const repeated = events.find((e) => e.reason === 'ProgressDeadlineExceeded');
    expect(repeated?.firstTimestamp).to.equal('2026-04-01T12:00:00Z');
    expect(repeated?.lastTimestamp).to.equal('2026-04-01T12:01:00Z');

    // An Event the API server dropped (its TTL) is written anew, not lost.
    await kube.delete(Resources.event, NS, repeated?.metadata?.name ?? '');
    await recorder.record(subject, rollback);
    const again = (await list<Ev>(kube, Resources.event, NS)).filter((e) => e.involvedObject?.uid === cm.metadata?.uid && e.reason === 'ProgressDeadlineExceeded');
    expect(again.map((e) => e.count)).to.deep.equal([1]);
  });

  describe('leader election with two replicas', () => {
    const procs: OperatorProcess[] = [];
    after(async () => {
      for (const p of procs) await stopProcess(p, 'SIGKILL');
    });

    it('only the leader reconciles; when it dies the other takes over within the lease duration', async () => {
      const ports = [await freePort(), await freePort()];
      const env = (i: number) => ({
        KENNEL_NAMESPACES: NS,
        KENNEL_LEASE_NAMESPACE: NS,
        KENNEL_LEADER_ELECT: 'true',
        KENNEL_HEALTH_PORT: String(ports[i]),
        POD_NAME: `replica-${i}`,
      });
      procs.push(spawnOperator(bed, env(0), 'leader-0'));
      const holder = async () => (await kube.get<KubeObject & { spec?: { holderIdentity?: string } }>(Resources.lease, NS, 'kennel-operator'))?.spec?.holderIdentity;
      await waitFor(async () => ((await holder())?.startsWith('replica-0') ? true : undefined), { timeoutMs: 30_000, what: 'replica-0 to lead' });
      procs.push(spawnOperator(bed, env(1), 'leader-1'));
      await waitFor(() => scrape(ports[1] as number).then(() => true), { timeoutMs: 30_000, what: 'replica-1 to serve /metrics' });

      for (let i = 0; i < 3; i++) await kube.create(Resources.trainingRun, trainingRun(NS, `le-${i}`, { model: 'le', dataset: { uri: 'file:///data/acc-0.9/' }, hyperparameters: { epochs: 1 } }));
      await waitFor(async () => ((await list(kube, Resources.job, NS)).length >= 3 ? true : undefined), { timeoutMs: 30_000, what: 'three Jobs' });
      const [m0, m1] = [await scrape(ports[0] as number), await scrape(ports[1] as number)];
      expect(metricValue(m0, 'kennel_operator_leader')).to.equal(1);
      expect(metricValue(m1, 'kennel_operator_leader')).to.equal(0);
      expect(reconcileCount(m0)).to.be.greaterThan(0);
      expect(reconcileCount(m1), 'the standby reconciled').to.equal(0);

      const killedAt = Date.now();
      await stopProcess(procs[0], 'SIGKILL');
      await waitFor(async () => ((await holder())?.startsWith('replica-1') ? true : undefined), { timeoutMs: 30_000, intervalMs: 100, what: 'replica-1 to take over' });
      const failoverS = (Date.now() - killedAt) / 1000;
      process.stdout.write(`      (failover after SIGKILL: ${failoverS.toFixed(1)}s)\n`);
      // Lease duration 15 s from the last renewal (≤ 2 s before the kill), plus one API round trip.
      expect(failoverS).to.be.at.most(16);
      await kube.create(Resources.trainingRun, trainingRun(NS, 'le-after', { model: 'le', dataset: { uri: 'file:///data/acc-0.9/' }, hyperparameters: { epochs: 1 } }));
      await waitFor(async () => ((await list(kube, Resources.job, NS, 'kennel.dev/training-run=le-after')).length === 1 ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the new leader to create the Job of a new run',
      });
      expect(metricValue(await scrape(ports[1] as number), 'kennel_operator_leader')).to.equal(1);
    });

    it('a leader that shuts down gracefully releases the lease so the standby takes over at once', async () => {
      const ports = [await freePort()];
      procs.push(spawnOperator(bed, { KENNEL_NAMESPACES: NS, KENNEL_LEASE_NAMESPACE: NS, KENNEL_HEALTH_PORT: String(ports[0]), POD_NAME: 'replica-2' }, 'leader-2'));
      await waitFor(() => scrape(ports[0] as number).then(() => true), { timeoutMs: 30_000, what: 'replica-2 to serve /metrics' });
      const holder = async () => (await kube.get<KubeObject & { spec?: { holderIdentity?: string } }>(Resources.lease, NS, 'kennel-operator'))?.spec?.holderIdentity;
      const t0 = Date.now();
      await stopProcess(procs[1], 'SIGTERM');
      expect(procs[1]?.child.exitCode, 'graceful exit').to.equal(0);
      await waitFor(async () => ((await holder())?.startsWith('replica-2') ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, what: 'replica-2 to take over' });
      expect((Date.now() - t0) / 1000).to.be.below(5);
    });
  });
});

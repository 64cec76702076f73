import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import sharp from 'sharp';
import { compactEtcd, startServiceProxy, type ServiceProxy, type Testbed } from '../../../local-cluster/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import { createTinyArtifact } from '../serve/helpers.js';
import { servingModelVersion } from './model-versions.js';
import { createNamespace, list, spawnOperator, startBed, startInProcess, stopProcess, trainingRun, waitFor, waitForStatus, type OperatorProcess, type Phased } from './helpers.js';

const NS = 'apifaults';
const distCli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
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

      // With the API server down, a write outside /registry moves etcd's revision past every
      // resourceVersion the informers hold (no watch bookmark can carry it to them while the
      // server is down), and compacting there removes them all; the restarted API server's watch
      // cache starts at the current revision too: each watch's resume gets 410 Gone. (Compacting
      // after a write through the API server, with the server up, let a bookmark move the
      // modelversions informer to that revision first in one CI run: no 410 for it.)
      let revision = 0;
      const outageMs = await apiServerOutage(1_000, async () => {
        revision = await compactEtcd(bed.etcdEndpoint, { mark: '/kennel-test/revision-mark' });
      });
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

      // An informer whose watch broke while the server was down resumes after its restart
      // back-off (1 s doubling up to 30 s), so its relist may come after the new run's Job: wait
      // for every one (a failure still names the resource that never relisted).
      const resources = ['trainingruns', 'modelversions', 'inferenceservices', 'batchpredictions', 'jobs', 'pods', 'deployments'];
      const relisted = async (): Promise<string> => {
        const text = await operator.registry.metrics();
        return resources.filter((r) => counter(text, 'kennel_operator_informer_relists_total', `resource="${r}"`) < 1).join(', ');
      };
      await waitFor(async () => ((await relisted()) === '' ? true : undefined), { timeoutMs: 60_000, intervalMs: 250, what: 'every informer to relist after 410 Gone' }).catch(() => undefined);
      const after = await operator.registry.metrics();
      const relistedAfterMs = Date.now() - up;
      for (const resource of resources) {
        expect(counter(after, 'kennel_operator_informer_relists_total', `resource="${resource}"`), `${resource} relisted after 410 Gone (not yet: ${await relisted()})`).to.be.at.least(1);
      }
      // The relisted caches are whole: one Job per run, nothing duplicated or lost.
      const runs = await list<Obj>(kube, Resources.trainingRun, NS);
      expect(runs.map((r) => [r.metadata?.name, r.status?.phase]).sort()).to.deep.equal([
        ['after-gone', 'Succeeded'],
        ['before-gone', 'Succeeded'],
      ]);
      expect(await list(kube, Resources.job, NS)).to.have.length(2);
      console.log(`      410 Gone: compacted at revision ${revision}; API server down ${outageMs} ms; a new run's Job ${reconciledMs} ms after it was back; every informer relisted within ${relistedAfterMs} ms`);
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
        let v2ReadyAt: number | undefined;
        const replicaSets = new Set<string>();
        const watchChildren = async () => {
          const [deps, rs] = await Promise.all([
            list<KubeObject & { status?: { readyReplicas?: number } }>(kube, Resources.deployment, NS, 'kennel.dev/inference-service=roll'),
            list(kube, { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true }, NS, 'kennel.dev/inference-service=roll'),
          ]);
          mostDeployments = Math.max(mostDeployments, deps.length);
          if (v2ReadyAt === undefined && deps.some((d) => d.metadata?.name === 'roll-roll-v2' && (d.status?.readyReplicas ?? 0) >= 1)) v2ReadyAt = Date.now();
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
        const afterReadyMs = Date.now() - (v2ReadyAt ?? NaN);
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
        console.log(`      API server down ${outageMs} ms mid-rollout; roll-v2 promoted ${convergedMs} ms after it was back (${afterReadyMs} ms after its pod was ready); at most ${mostDeployments} Deployments, ${replicaSets.size} ReplicaSets`);
      } finally {
        await artifact.cleanup();
      }
    });
  });

  describe('the leader killed during a canary', () => {
    const FO = 'failover';
    const procs: OperatorProcess[] = [];
    let proxy: ServiceProxy | undefined;
    let artifact: { uri: string; dir: string; cleanup: () => Promise<void> } | undefined;
    after(async () => {
      await proxy?.stop();
      for (const p of procs) await stopProcess(p, 'SIGKILL');
      await artifact?.cleanup();
    });

    it('SIGKILL of the leader at each canary step under load: the standby resumes the analysis from the cluster, no request fails, no extra pods', async function () {
      this.timeout(300_000);
      if (!existsSync(distCli)) throw new Error(`${distCli} is missing: run \`npm run build\` first (the test bed's node runs the built \`kennel serve\`)`);
      artifact = await createTinyArtifact();
      const sha256 = (JSON.parse(readFileSync(`${artifact.dir}/pets/v7/metadata.json`, 'utf8')) as { sha256: string }).sha256;
      await createNamespace(kube, FO);
      const env = (i: number) => ({ KENNEL_NAMESPACES: FO, KENNEL_LEASE_NAMESPACE: FO, KENNEL_LEADER_ELECT: 'true', POD_NAME: `replica-${i}` });
      const holder = async () => (await kube.get<KubeObject & { spec?: { holderIdentity?: string } }>(Resources.lease, FO, 'kennel-operator'))?.spec?.holderIdentity ?? '';
      procs.push(spawnOperator(bed, env(0), 'failover-0'));
      await waitFor(async () => ((await holder()).startsWith('replica-0') ? true : undefined), { timeoutMs: 60_000, what: 'replica-0 to lead' });
      procs.push(spawnOperator(bed, env(1), 'failover-1'));

      await kube.create(Resources.modelVersion, servingModelVersion(FO, 'fo', 1, { uri: artifact.uri, sha256 }));
      await kube.create(Resources.inferenceService, {
        apiVersion: 'kennel.dev/v1alpha1',
        kind: 'InferenceService',
        metadata: { name: 'fo', namespace: FO },
        spec: {
          model: 'fo',
          replicas: 2,
          monitoring: { enabled: false },
          rollout: {
            strategy: 'Canary',
            steps: [{ weight: 50, pauseSeconds: 30 }, { weight: 100, pauseSeconds: 0 }],
            analysis: { maxErrorRate: 0, minRequests: 5, window: '20s' },
            progressDeadlineSeconds: 120,
          },
        },
      });
      await waitForStatus<Isvc>(kube, Resources.inferenceService, FO, 'fo', (o) => o.status?.phase === 'Ready', 'fo-v1 Ready', 150_000);

      // Load through a stand-in for kube-proxy (no retries: a request sent to a pod that goes away fails).
      proxy = await startServiceProxy({ kubeConfig: bed.kubeConfig, namespace: FO, service: 'fo', port: 'http' });
      const image = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer();
      const load = { ok: 0, failed: [] as string[], running: true };
      const client = async () => {
        while (load.running) {
          try {
            const res = await fetch(`${proxy?.url}/predict`, { method: 'POST', body: image, headers: { 'content-type': 'image/png' }, signal: AbortSignal.timeout(10_000) });
            await res.arrayBuffer();
            if (res.ok) load.ok++;
            else load.failed.push(`HTTP ${res.status}`);
          } catch (err) {
            load.failed.push((err as Error).message);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const clients = [client(), client()];

      // What the cluster holds, polled throughout: the service's pods (not terminating) and Deployments, and each canary's start.
      type Pod = KubeObject & { metadata?: { deletionTimestamp?: string } };
      let mostPods = 0;
      let mostDeployments = 0;
      const canaryStarts = new Set<string>();
      const observe = async () => {
        const [pods, deps, isvc] = await Promise.all([
          list<Pod>(kube, Resources.pod, FO, 'kennel.dev/inference-service=fo'),
          list(kube, Resources.deployment, FO, 'kennel.dev/inference-service=fo'),
          kube.get<Isvc & { status?: { canary?: { startedAt?: string; readyAt?: string; step?: number } } }>(Resources.inferenceService, FO, 'fo'),
        ]);
        mostPods = Math.max(mostPods, pods.filter((p) => !p.metadata?.deletionTimestamp).length);
        mostDeployments = Math.max(mostDeployments, deps.length);
        if (isvc?.status?.canary?.startedAt) canaryStarts.add(isvc.status.canary.startedAt);
        return isvc;
      };

      await kube.create(Resources.modelVersion, servingModelVersion(FO, 'fo', 2, { uri: artifact.uri, sha256 }));
      // Step 1 (50%): its pods are ready, its pause runs, and the analysis has checkpointed what it measured.
      await waitFor(
        async () => {
          const isvc = await observe();
          const canary = (await kube.get<KubeObject>(Resources.deployment, FO, 'fo-fo-v2'))?.metadata?.annotations?.['kennel.dev/canary-analysis'];
          return isvc?.status?.canary?.readyAt && isvc.status.canary.step === 0 && canary ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: 'the canary step 1 to be ready and checkpointed' },
      );
      /** SIGKILLs the replica holding the lease; resolves with it and the ms until another replica holds it. */
      const killLeader = async () => {
        const leader = await holder();
        const killed = procs.find((_, i) => leader.startsWith(`replica-${i}_`));
        expect(killed, `a running replica leads (${leader})`).to.not.equal(undefined);
        const at = Date.now();
        await stopProcess(killed, 'SIGKILL');
        await waitFor(async () => ((await holder()) && !(await holder()).startsWith(leader.split('_')[0] ?? '') ? true : undefined), {
          timeoutMs: 30_000,
          intervalMs: 100,
          what: 'a standby to take the lease',
        });
        return { killed, at, takeoverMs: Date.now() - at };
      };
      const first = await killLeader();
      const killedAt = first.at;
      // A fresh standby (the killed pod's replacement), then the second leader is killed at step 2
      // (weight 100) while it waits for the canary's second pod.
      procs.push(spawnOperator(bed, env(2), 'failover-2'));
      const atStep2 = await waitFor(
        async () => {
          const isvc = await observe();
          return isvc?.status?.canary?.step === 1 || isvc?.status?.currentModelVersion === 'fo-v2' ? isvc : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: 'the new leader to advance the canary to step 2' },
      );
      expect(atStep2.status?.canary?.step, 'caught at step 2, before the promotion').to.equal(1);
      const second = await killLeader();
      const successors = procs.filter((p) => p !== first.killed && p !== second.killed);

      const done = await waitFor(
        async () => {
          const isvc = await observe();
          return isvc?.status?.currentModelVersion === 'fo-v2' && !isvc.status.canary ? isvc : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 250, what: 'fo-v2 to be promoted by the third leader' },
      );
      const promotedMs = Date.now() - killedAt;
      // The old version's pods drain (preStop) while the load runs on.
      await waitFor(async () => ((await list(kube, Resources.pod, FO, 'kennel.dev/model-version=fo-v1')).length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'fo-v1 pods gone' });
      load.running = false;
      await Promise.all(clients);

      expect(load.failed, 'failed requests').to.deep.equal([]);
      expect(load.ok).to.be.above(50);
      expect(mostPods, 'never more pods than 2 stable + 2 canary').to.be.at.most(4);
      expect(mostDeployments, 'never more than the stable and the canary Deployment').to.be.at.most(2);
      expect([...canaryStarts], 'the rollout was resumed, not restarted').to.have.length(1);
      expect(done.status?.history?.map((h) => [h.modelVersion, h.reason])).to.deep.equal([
        ['fo-v1', 'Initial'],
        ['fo-v2', 'Promoted'],
      ]);
      const pods = (await list<Pod>(kube, Resources.pod, FO, 'kennel.dev/inference-service=fo')).filter((p) => !p.metadata?.deletionTimestamp);
      expect(pods, 'the service runs its 2 replicas').to.have.length(2);
      // The second leader started its analysis from the first one's checkpoints.
      const resumedBy = (p: OperatorProcess | undefined) =>
        readFileSync(p?.logPath ?? '', 'utf8')
          .split('\n')
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as { msg?: string; checkpoints?: number; oldest?: string }];
            } catch {
              return [];
            }
          })
          .find((l) => l.msg === 'canary analysis resumed from the checkpoints kept in the cluster');
      const resumed = resumedBy(second.killed);
      expect(resumed, 'the second leader logged that it resumed from the checkpoints').to.not.equal(undefined);
      expect(Date.parse(resumed?.oldest ?? '')).to.be.below(killedAt);
      expect(successors).to.have.length(1);
      expect(resumedBy(successors[0]), 'the third leader resumed from the checkpoints too').to.not.equal(undefined);
      const promoted = await kube.get<KubeObject>(Resources.deployment, FO, 'fo-fo-v2');
      expect(promoted?.metadata?.annotations?.['kennel.dev/canary-analysis'], 'checkpoints removed once promoted').to.equal(undefined);
      console.log(
        `      leader SIGKILLed at step 1 and at step 2: standby led after ${first.takeoverMs} ms and ${second.takeoverMs} ms, promoted ${promotedMs} ms after the first kill (resumed from ${resumed?.checkpoints} checkpoint(s)); ${load.ok} requests, ${load.failed.length} failed; at most ${mostPods} pods`,
      );
    });
  });
});

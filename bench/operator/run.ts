/**
 * `npm run bench:operator`: the operator's targets, measured against the test bed's real API
 * server and controllers.
 *
 * 1. 1,000 TrainingRuns created at once in one namespace: every one gets its Job (target: all
 *    within 60 s), none gets two; p50/p99 from the create call's return to the Job's ADDED
 *    watch event, both seen by this process (one clock, millisecond resolution).
 * 2. Operator memory (VmRSS of its process) with 1,000 TrainingRuns, their 1,000 Jobs and
 *    Pods, and 1,000 ModelVersions in its caches (target < 200 MiB).
 * 3. Leader failover with two replicas: SIGKILL the leader, time until the Lease names the
 *    other one (target ≤ 15 s).
 *
 * The node agent is stopped once the test bed is up, so the training pods stay Pending: the
 * bench measures the control loop, not training. BENCH_CONTROL_PLANE=minimal runs against etcd +
 * kube-apiserver only (no Job controller, so no Pods); BENCH_RUNS changes the count.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeInformer, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node';
import { createKubeClient, type KubeClient, type KubeObject } from '../../src/operator/kube/client.js';
import { Resources, resourcePath } from '../../src/operator/kube/resources.js';
import { startBenchControlPlane, type BenchControlPlane } from './control-plane.js';
import { waitFor } from '../../local-cluster/net-utils.js';
import { ownShutdown } from '../../local-cluster/shutdown.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const NS = 'bench';
const WORKERS = process.env.KENNEL_WORKERS ?? '16';
const repo = fileURLToPath(new URL('../../', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const say = (s: string) => process.stdout.write(`${s}\n`);
// Interrupted by any signal (to its pid alone or its group), the bench stops the operator replicas and the control plane.
const shutdown = ownShutdown();

interface Replica {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** The operator as its own process: the built CLI when present (what the image runs), else through tsx. */
function startReplica(bed: BenchControlPlane, name: string): Replica {
  const dist = join(repo, 'dist/cli.js');
  const args = existsSync(dist) ? [dist, 'operator'] : ['--import', 'tsx', join(repo, 'src/cli.ts'), 'operator'];
  const log = createWriteStream(join(bed.dir, `bench-${name}.log`));
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      KUBECONFIG: bed.kubeconfigPath,
      POD_NAME: name,
      KENNEL_NAMESPACES: NS,
      KENNEL_LEASE_NAMESPACE: NS,
      KENNEL_LEADER_ELECT: 'true',
      KENNEL_WORKER_IMAGE: 'ghcr.io/kennel-dev/kennel-worker:bench',
      KENNEL_ARTIFACT_ROOT: 'gs://bench/kennel',
      KENNEL_HEALTH_PORT: '0',
      KENNEL_LOG_LEVEL: 'info',
      KENNEL_WORKERS: WORKERS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  shutdown.adopt(`operator ${name}`, child);
  return { name, child, exited: new Promise((r) => child.on('exit', () => r())) };
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function leaseHolder(kube: KubeClient): Promise<string | undefined> {
  const lease = await kube.get<KubeObject & { spec?: { holderIdentity?: string } }>(Resources.lease, NS, 'kennel-operator');
  return lease?.spec?.holderIdentity || undefined;
}

async function inBatches<T>(items: T[], size: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (i < items.length) await fn(items[i++] as T);
    }),
  );
}

async function main(): Promise<void> {
  say(`bench:operator — ${RUNS} TrainingRuns in one namespace against the test bed (operator: ${WORKERS} parallel reconciles per controller)`);
  const t0 = Date.now();
  const mode = process.env.BENCH_CONTROL_PLANE === 'minimal' ? 'minimal' : 'full';
  const bed = await startBenchControlPlane(mode);
  shutdown.add('control plane', () => bed.stop());
  say(
    mode === 'full'
      ? `test bed up in ${((Date.now() - t0) / 1000).toFixed(1)}s; node agent stopped, so training pods stay Pending`
      : `minimal control plane (etcd + kube-apiserver + CRDs, no Job controller) up in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  const kube = createKubeClient(bed.kubeConfig, { maxSockets: 64 });
  const replicas: Replica[] = [];
  let failed = false;
  try {
    await kube.create(Resources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

    // Watch Jobs from this process: the ADDED event time is when the Job exists for everyone.
    const jobSeen = new Map<string, number>();
    const jobsPerRun = new Map<string, Set<string>>();
    const listJobs = () => kube.list<KubeObject>(Resources.job, NS) as unknown as Promise<KubernetesListObject<KubernetesObject>>;
    const jobs = makeInformer<KubernetesObject>(bed.kubeConfig, resourcePath(Resources.job, NS), listJobs);
    jobs.on('add', (j) => {
      const run = j.metadata?.labels?.['kennel.dev/training-run'];
      if (!run) return;
      if (!jobSeen.has(run)) jobSeen.set(run, Date.now());
      const set = jobsPerRun.get(run) ?? new Set();
      set.add(j.metadata?.name ?? '');
      jobsPerRun.set(run, set);
    });
    await jobs.start();

    const a = startReplica(bed, 'replica-a');
    replicas.push(a);
    await waitFor(() => leaseHolder(kube).then((h) => (h?.startsWith('replica-a') ? h : undefined)), { timeoutMs: 60_000, what: 'replica-a to lead' });
    // Let its caches sync before the burst.
    await sleep(1_000);

    const names = Array.from({ length: RUNS }, (_, i) => `run-${String(i).padStart(4, '0')}`);
    const created = new Map<string, number>();
    const burstStart = Date.now();
    await inBatches(names, 100, async (name) => {
      await kube.create(Resources.trainingRun, {
        apiVersion: 'kennel.dev/v1alpha1',
        kind: 'TrainingRun',
        metadata: { name, namespace: NS },
        spec: { model: `m${Number(name.slice(4)) % 10}`, dataset: { uri: 'gs://bench/data/' }, hyperparameters: { epochs: 1 } },
      });
      created.set(name, Date.now());
    });
    say(`created ${RUNS} TrainingRuns in ${((Date.now() - burstStart) / 1000).toFixed(1)}s`);
    await waitFor(() => (jobSeen.size >= RUNS ? true : undefined), { timeoutMs: 120_000, intervalMs: 200, what: `${RUNS} Jobs (seen ${jobSeen.size})` }).catch((err: Error) => {
      say(`NOT MET: ${err.message}`);
      failed = true;
    });
    const allWithin = (Math.max(...jobSeen.values()) - burstStart) / 1000;
    const latencies = names.filter((n) => jobSeen.has(n) && created.has(n)).map((n) => Math.max(0, (jobSeen.get(n) as number) - (created.get(n) as number))).sort((x, y) => x - y);
    const server = await kube.list<KubeObject>(Resources.job, NS);
    const perRun = new Map<string, number>();
    for (const j of server.items) {
      const run = j.metadata?.labels?.['kennel.dev/training-run'] ?? '';
      perRun.set(run, (perRun.get(run) ?? 0) + 1);
    }
    const doubles = [...perRun.values()].filter((n) => n > 1).length;
    const missing = names.filter((n) => !perRun.has(n)).length;
    say(`Jobs: ${server.items.length} for ${RUNS} runs; runs without a Job: ${missing}; runs with more than one: ${doubles}`);
    say(`creation → Job: p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${latencies.at(-1)} ms; last Job ${allWithin.toFixed(1)}s after the burst began (target: all within 60 s)`);
    if (missing > 0 || doubles > 0 || allWithin > 60) failed = true;
    await jobs.stop();

    // 1,000 ModelVersions in the cache too.
    const mvStart = Date.now();
    await inBatches(
      Array.from({ length: RUNS }, (_, i) => i),
      100,
      async (i) => {
        const model = `m${i % 10}`;
        const version = Math.floor(i / 10) + 1;
        await kube.create(Resources.modelVersion, {
          apiVersion: 'kennel.dev/v1alpha1',
          kind: 'ModelVersion',
          metadata: { name: `${model}-v${version}`, namespace: NS, labels: { 'kennel.dev/model': model } },
          spec: {
            model,
            version,
            artifact: { uri: `gs://bench/kennel/${model}/v${version}`, format: 'tfjs-layers', sha256: 'ab'.repeat(32) },
            classes: ['cat', 'dog'],
            inputShape: [64, 64, 3],
            metrics: {
              accuracy: 0.9,
              precision: 0.9,
              recall: 0.9,
              f1: 0.9,
              testImages: 100,
              perClass: { cat: { precision: 0.9, recall: 0.9, f1: 0.9, support: 50 }, dog: { precision: 0.9, recall: 0.9, f1: 0.9, support: 50 } },
              confusionMatrix: [
                [45, 5],
                [5, 45],
              ],
              confidenceHistogram: [0, 0, 0, 0, 0, 10, 10, 20, 30, 30],
              meanConfidence: 0.85,
            },
            lineage: { dataset: { uri: 'gs://bench/data/', digest: 'sha256:x' }, codeVersion: 'bench' },
          },
        });
      },
    );
    say(`created ${RUNS} ModelVersions in ${((Date.now() - mvStart) / 1000).toFixed(1)}s`);
    // Wait until the operator has judged every gate (so its caches hold them all), then settle.
    await waitFor(
      async () => {
        const mvs = await kube.list<KubeObject & { status?: { phase?: string } }>(Resources.modelVersion, NS);
        return mvs.items.filter((m) => m.status?.phase).length >= RUNS ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1_000, what: 'every ModelVersion gate decided' },
    );
    if (bed.withControllers) {
      // The Job controller creates the Pods at its own pace; measure once the operator caches them all.
      await waitFor(async () => ((await kube.list(Resources.pod, NS)).items.length >= RUNS ? true : undefined), {
        timeoutMs: 180_000,
        intervalMs: 2_000,
        what: `${RUNS} Pods`,
      }).catch((err: Error) => say(`note: ${err.message}`));
    }
    await sleep(5_000);
    const rss = rssMiB(a.child.pid);
    const pods = bed.withControllers ? `, ${(await kube.list(Resources.pod, NS)).items.length} Pods` : '';
    say(`operator RSS with ${RUNS} TrainingRuns, ${RUNS} Jobs${pods} and ${RUNS} ModelVersions cached: ${rss.toFixed(0)} MiB (target < 200 MiB)`);
    if (rss >= 200) failed = true;

    // Failover.
    const b = startReplica(bed, 'replica-b');
    replicas.push(b);
    await sleep(5_000);
    const before = await leaseHolder(kube);
    if (!before?.startsWith('replica-a')) throw new Error(`expected replica-a to hold the lease, found ${before}`);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const newHolder = await waitFor(() => leaseHolder(kube).then((h) => (h?.startsWith('replica-b') ? h : undefined)), {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'replica-b to take the lease',
    });
    const failover = (Date.now() - killedAt) / 1000;
    say(`leader failover: ${newHolder} leads ${failover.toFixed(1)}s after the leader was killed (target ≤ 15 s)`);
    if (failover > 15) failed = true;
  } finally {
    for (const r of replicas) {
      r.child.kill('SIGKILL');
      await r.exited;
    }
    kube.close();
    await bed.stop();
  }
  say(failed ? 'bench:operator: a target was NOT met' : 'bench:operator: all targets met');
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:operator failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

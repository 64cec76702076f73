/**
 * `npm run bench:batch [-- --images 1000 --parallelism 2 --batch-size 32 --image-size 112 --architecture compact-cnn]`:
 * a BatchPrediction on the test bed (real kube-apiserver, Job controller, fake-gcs-server, the
 * node agent running the built `kennel predict-batch` in each pod), over photos of the shared
 * cats-vs-dogs set uploaded to the bucket, with a model trained here for one epoch (its speed,
 * not its accuracy, is what is measured). Prints, per pod, the images it classified and its
 * images per second of classifying (read, decode, predict, commit; model load excluded), and
 * for the batch the wall time from `kubectl apply` to Succeeded and the images per second over
 * it, with the machine's load average before and after.
 *
 * Needs `npm run build` (pods run dist/cli.js) and the test bed's binaries.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { BatchShardOutcome } from '../../src/shared/api/batch-report.js';
import type { WorkerOutcome } from '../../src/shared/api/worker-report.js';
import { loadOperatorConfig } from '../../src/operator/config.js';
import { createKubeClient, type KubeObject } from '../../src/operator/kube/client.js';
import { Resources } from '../../src/operator/kube/resources.js';
import { startOperator } from '../../src/operator/main.js';
import type { PodWire } from '../../src/operator/shared/wire.js';
import { choosePhotos, startTestbed, uploadPhotos } from '../../local-cluster/index.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(repo, 'dist/cli.js');
const NS = 'bench';
const PHOTOS = process.env.KENNEL_BENCH_DATA ?? path.resolve(repo, '../shared/datasets/cats-dogs');

const { values: flags } = parseArgs({
  options: {
    images: { type: 'string', default: '1000' },
    parallelism: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '32' },
    'image-size': { type: 'string' },
    architecture: { type: 'string' },
  },
});

function kennel(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, maxBuffer: 64 * 2 ** 20 }, (err, _out, stderr) => {
      if (err) process.stderr.write(stderr);
      resolve(err ? 1 : 0);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  if (!existsSync(path.join(PHOTOS, 'cat'))) throw new Error(`bench:batch: ${PHOTOS} is absent (set KENNEL_BENCH_DATA)`);
  if (!existsSync(CLI)) throw new Error(`bench:batch: ${CLI} is absent: run npm run build first`);
  const images = Number(flags.images);
  const parallelism = Number(flags.parallelism);
  const perClass = Math.ceil(images / 2);
  const work = await mkdtemp(path.join(tmpdir(), 'kennel-bench-batch-'));
  const bed = await startTestbed();
  const kube = createKubeClient(bed.kubeConfig);
  try {
    const photos = await choosePhotos(['cat', 'dog'], { train: perClass, heldOut: 0 }, PHOTOS);
    const small = await choosePhotos(['cat', 'dog'], { train: 50, heldOut: 0 }, PHOTOS);
    await uploadPhotos(bed.gcsEndpoint, 'bench', 'train', small.train);
    const term = path.join(work, 'termination-log');
    const trainArgs = ['train', '--data', 'gs://bench/train', '--out', path.join(work, 'model'), '--epochs', '1'];
    if (flags['image-size']) trainArgs.push('--image-size', flags['image-size']);
    if (flags.architecture) trainArgs.push('--architecture', flags.architecture);
    if ((await kennel(trainArgs, { KENNEL_TERMINATION_LOG: term, KENNEL_GCS_ENDPOINT: bed.gcsEndpoint })) !== 0) throw new Error('training the bench model failed');
    const model = JSON.parse(await readFile(term, 'utf8')) as WorkerOutcome;
    if (model.outcome !== 'Succeeded') throw new Error(model.message);
    const uploaded = await uploadPhotos(bed.gcsEndpoint, 'bench', 'photos', photos.train);

    await kube.create(Resources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    while (!(await kube.get({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, NS, 'default'))) await sleep(200);
    await kube.create(Resources.modelVersion, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: 'bench-v1', namespace: NS },
      spec: {
        model: 'bench',
        version: 1,
        artifact: { uri: pathToFileURL(path.join(work, 'model')).href, format: 'tfjs-layers', sha256: model.sha256 },
        classes: model.classes,
        inputShape: model.inputShape,
        metrics: model.metrics,
        lineage: { dataset: { uri: model.datasetUri, digest: model.datasetDigest }, codeVersion: model.codeVersion },
      },
    });
    const config = loadOperatorConfig({
      KENNEL_NAMESPACES: NS,
      KENNEL_LEADER_ELECT: 'false',
      KENNEL_WORKER_IMAGE: 'ghcr.io/kennel-dev/kennel-worker:0.1.0',
      KENNEL_ARTIFACT_ROOT: pathToFileURL(path.join(work, 'artifacts')).href,
      KENNEL_HEALTH_PORT: '0',
    });
    const operator = await startOperator({ config, kubeConfig: bed.kubeConfig, logger: pino({ level: 'warn' }), healthHost: '127.0.0.1', podEnv: { KENNEL_GCS_ENDPOINT: bed.gcsEndpoint } });
    try {
      const load0 = load();
      console.log(`bench:batch: ${uploaded} photos, ${parallelism} pods, batch size ${flags['batch-size']}, model ${model.inputShape[0]} px (${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load ${load0})`);
      const started = performance.now();
      await kube.create(Resources.batchPrediction, {
        apiVersion: 'kennel.dev/v1alpha1',
        kind: 'BatchPrediction',
        metadata: { name: 'bench', namespace: NS },
        spec: { input: { uri: 'gs://bench/photos' }, model: { modelVersion: 'bench-v1' }, outputUri: 'gs://bench/labels', parallelism, batchSize: Number(flags['batch-size']) },
      });
      let bp: (KubeObject & { status?: { phase?: string; jobName?: string; failure?: { message: string } } }) | undefined;
      for (;;) {
        bp = await kube.get(Resources.batchPrediction, NS, 'bench');
        if (bp?.status?.phase === 'Succeeded' || bp?.status?.phase === 'Failed') break;
        await sleep(500);
      }
      const wall = (performance.now() - started) / 1000;
      const load1 = load();
      if (bp.status?.phase !== 'Succeeded') throw new Error(`the batch failed: ${bp.status?.failure?.message ?? ''}`);
      const pods = (await kube.list<PodWire>(Resources.pod, NS, { labelSelector: `batch.kubernetes.io/job-name=${bp.status.jobName ?? ''}` })).items;
      console.log('\npod                                shard  images  img/s (classifying)  pod seconds (start → exit)');
      let sum = 0;
      for (const pod of pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
        const t = pod.status?.containerStatuses?.[0]?.state?.terminated;
        const o = JSON.parse(t?.message ?? '{}') as BatchShardOutcome;
        if (o.outcome !== 'Succeeded') continue;
        const seconds = t?.startedAt && t.finishedAt ? (Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000 : NaN;
        sum += o.imagesPerSecond;
        console.log(`${(pod.metadata?.name ?? '').padEnd(35)}${String(o.shard).padStart(5)}${String(o.images).padStart(8)}${o.imagesPerSecond.toFixed(1).padStart(21)}${seconds.toFixed(0).padStart(28)}`);
      }
      console.log(`\nbatch wall time (apply → Succeeded)  ${wall.toFixed(1)} s`);
      console.log(`batch images/s over the wall time    ${(uploaded / wall).toFixed(1)}`);
      console.log(`sum of the pods' img/s               ${sum.toFixed(1)}`);
      console.log(`load average (1, 5, 15 min)          before ${load0}, after ${load1}`);
    } finally {
      await operator.stop();
    }
  } finally {
    kube.close();
    await bed.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();

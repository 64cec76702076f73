import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BatchResultLine, BatchShardOutcome, BatchSummary } from '../../../src/shared/api/batch-report.js';
import type { WorkerOutcome } from '../../../src/shared/api/worker-report.js';
import { storageFor, type Storage } from '../../../src/shared/storage/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import type { PodWire } from '../../../src/operator/shared/wire.js';
import { parsePart } from '../../../src/worker/predict-batch/commit-log.js';
import { linkPhotos, PHOTOS_DIR, photosPresent } from '../../e2e/support/dataset.js';
import { choosePhotos, startTestbed, uploadPhotos, type Testbed } from '../../../local-cluster/index.js';
import { createKubeClient } from '../../../src/operator/kube/client.js';
import { createNamespace, list, repoRoot, startInProcess, waitFor, waitForStatus, type Phased } from './helpers.js';

const CLI = path.join(repoRoot, 'dist/cli.js');
const PER_CLASS = 150;
const BUCKET = 'catalogue';

type Obj = KubeObject & Phased;
type Batch = Obj & { status?: { jobName?: string; modelVersion?: string; results?: { images: number; predicted: number; failed: number; perClass?: Record<string, number>; summaryUri: string }; progress?: { shards: { shard: number; done: number; finished?: boolean }[] } } };

function kennel(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function linesOf(storage: Storage, uri: string): Promise<BatchResultLine[]> {
  const lines = parsePart((await storage.read(uri)).toString('utf8'));
  if (!lines) throw new Error(`${uri} is not JSON Lines of results`);
  return lines;
}

/**
 * A BatchPrediction of 300 real photos (and two files that are not photos) in the test bed's
 * bucket, with parallelism 3: the operator makes the Indexed Job, the node agent runs the real
 * `kennel predict-batch` (dist/cli.js) in three pods, one of which the test kills with SIGKILL
 * in the middle of its shard. The merged results must give every photo the label `kennel
 * evaluate` gives it, once each.
 */
describe('operator: BatchPrediction of real photos (test bed, real kennel predict-batch)', function () {
  this.timeout(600_000);
  const ns = 'batch';
  let dir: string;
  let bed: Testbed | undefined;
  let kube: KubeClient;
  let operator: RunningOperator | undefined;
  let gcs: Storage;
  let evaluated: BatchResultLine[];

  before(async function () {
    this.timeout(900_000);
    if (!photosPresent()) {
      console.log(`    skipping: ${PHOTOS_DIR} is absent (the shared photos are never copied into the repository)`);
      this.skip();
    }
    if (!existsSync(CLI)) {
      console.log(`    skipping: ${CLI} is absent (run npm run build first)`);
      this.skip();
    }
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-batch-it-'));
    const photos = await choosePhotos(['cat', 'dog'], { train: PER_CLASS, heldOut: 0 }, PHOTOS_DIR);
    await linkPhotos(path.join(dir, 'photos'), photos.train);
    // A small model, trained here: the labels need not be right, only the same as evaluate's.
    const term = path.join(dir, 'termination-log');
    const trained = await kennel(['train', '--data', path.join(dir, 'photos'), '--out', path.join(dir, 'model'), '--epochs', '1', '--image-size', '32', '--batch-size', '32'], { KENNEL_TERMINATION_LOG: term });
    expect(trained.code, trained.stderr).to.equal(0);
    const outcome = JSON.parse(await readFile(term, 'utf8')) as WorkerOutcome;
    if (outcome.outcome !== 'Succeeded') throw new Error(`training failed: ${outcome.message}`);
    const evaluation = await kennel(['evaluate', '--model', path.join(dir, 'model'), '--data', path.join(dir, 'photos'), '--json', '--predictions', path.join(dir, 'evaluate.jsonl')]);
    expect(evaluation.code, evaluation.stderr).to.equal(0);
    evaluated = parsePart(await readFile(path.join(dir, 'evaluate.jsonl'), 'utf8')) ?? [];

    bed = await startTestbed();
    kube = createKubeClient(bed.kubeConfig);
    gcs = storageFor(`gs://${BUCKET}`, { env: { KENNEL_GCS_ENDPOINT: bed.gcsEndpoint } });
    await uploadPhotos(bed.gcsEndpoint, BUCKET, 'photos', photos.train);
    await gcs.write(`gs://${BUCKET}/photos/broken.jpg`, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]));
    await gcs.write(`gs://${BUCKET}/photos/readme.txt`, 'not a photo');
    await createNamespace(kube, ns);
    await kube.create(Resources.modelVersion, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: 'photos-v1', namespace: ns },
      spec: {
        model: 'photos',
        version: 1,
        artifact: { uri: pathToFileURL(path.join(dir, 'model')).href, format: 'tfjs-layers', sha256: outcome.sha256 },
        classes: outcome.classes,
        inputShape: outcome.inputShape,
        metrics: outcome.metrics,
        lineage: { dataset: { uri: outcome.datasetUri, digest: outcome.datasetDigest }, codeVersion: outcome.codeVersion },
      },
    });
    operator = await startInProcess(bed, { namespaces: [ns] });
  });
  after(async () => {
    await operator?.stop();
    kube?.close();
    await bed?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const batch = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'kennel.dev/v1alpha1', kind: 'BatchPrediction', metadata: { name, namespace: ns }, spec });
  const podsOf = async (job: string) => list<PodWire>(kube, Resources.pod, ns, `batch.kubernetes.io/job-name=${job}`);
  const shardOf = (p: PodWire) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];

  it('gives every photo the label kennel evaluate gives it, once, across a pod killed mid-shard', async () => {
    const out = `gs://${BUCKET}/labels/run-1`;
    await kube.create(Resources.batchPrediction, batch('relabel', { input: { uri: `gs://${BUCKET}/photos` }, model: { modelVersion: 'photos-v1' }, outputUri: out, parallelism: 3, batchSize: 4 }));
    const started = await waitForStatus<Batch>(kube, Resources.batchPrediction, ns, 'relabel', (o) => o.status?.jobName !== undefined && o.status.modelVersion !== undefined, 'the Job of batch relabel', 60_000);
    const jobName = started.status?.jobName ?? '';
    expect(started.status?.modelVersion).to.equal('photos-v1');

    // Shard 1's pod, once it has committed two parts and before it is done: SIGKILL, no chance to tidy up.
    const victim = await waitFor(
      async () => {
        const pod = (await podsOf(jobName)).find((p) => shardOf(p) === '1' && p.status?.phase === 'Running');
        // The node agent names a running container by its process (group) id.
        const id = (pod?.status?.containerStatuses?.[0] as { containerID?: string } | undefined)?.containerID;
        return id?.startsWith('kennel://') ? { name: pod?.metadata?.name ?? '', pid: Number(id.slice('kennel://'.length)) } : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 100, what: 'the running pod of shard 1' },
    );
    const shardDir = `${out}/_shards/00001-of-00003`;
    const parts = await waitFor(
      async () => {
        const n = (await gcs.list(shardDir)).filter((e) => e.name.startsWith('part-')).length;
        return n >= 2 ? n : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 50, what: 'two committed parts of shard 1' },
    );
    process.kill(-victim.pid, 'SIGKILL');
    expect(await gcs.exists(`${shardDir}/summary.json`), 'shard 1 was still in progress when its pod was killed').to.equal(false);
    expect(parts).to.be.at.least(2);

    const done = await waitForStatus<Batch>(kube, Resources.batchPrediction, ns, 'relabel', (o) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', 'batch relabel to finish', 420_000);
    expect(done.status?.phase, JSON.stringify(done.status)).to.equal('Succeeded');
    expect(done.status?.results).to.deep.include({ images: 2 * PER_CLASS + 2, predicted: 2 * PER_CLASS, failed: 2, summaryUri: `${out}/summary.json` });
    expect(done.status?.progress?.shards.every((s) => s.finished)).to.equal(true);

    // The Job replaced the killed pod, and the replacement resumed after what had been committed.
    const shard1 = (await podsOf(jobName)).filter((p) => shardOf(p) === '1');
    expect(shard1.map((p) => p.metadata?.name)).to.include(victim.name);
    expect(shard1.length, 'a replacement pod for shard 1').to.be.at.least(2);
    const replacement = shard1.find((p) => p.status?.phase === 'Succeeded');
    const resumedOutcome = JSON.parse(replacement?.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '{}') as BatchShardOutcome;
    expect(resumedOutcome.outcome).to.equal('Succeeded');
    if (resumedOutcome.outcome !== 'Succeeded') return;
    expect(resumedOutcome.resumed, 'images the killed pod had committed').to.be.at.least(parts * 4);
    expect(resumedOutcome.resumed).to.be.below(resumedOutcome.images);

    // The product: one JSON Lines per shard and a summary, every photo once, unreadable files listed.
    const summary = JSON.parse((await gcs.read(`${out}/summary.json`)).toString('utf8')) as BatchSummary;
    expect(summary.files).to.deep.equal(['predictions-00000-of-00003.jsonl', 'predictions-00001-of-00003.jsonl', 'predictions-00002-of-00003.jsonl']);
    expect(summary).to.deep.include({ images: 2 * PER_CLASS + 2, failed: 2 });
    expect(summary.failures.map((f) => f.path).sort()).to.deep.equal(['broken.jpg', 'readme.txt']);
    expect(summary.model).to.deep.include({ modelVersion: 'photos-v1' });
    const merged = (await Promise.all(summary.files.map((f) => linesOf(gcs, `${out}/${f}`)))).flat();
    const byPath = new Map(merged.map((l) => [l.path, l]));
    expect(byPath.size, 'each image once').to.equal(merged.length);
    expect(merged).to.have.length(2 * PER_CLASS + 2);

    expect(evaluated.length).to.be.greaterThan(2 * PER_CLASS - 10);
    const mismatches: string[] = [];
    for (const e of evaluated) {
      const b = byPath.get(e.path);
      if (!b || !('label' in b) || !('label' in e) || b.label !== e.label || Math.abs(b.confidence - e.confidence) > 1e-4) mismatches.push(`${e.path}: evaluate ${JSON.stringify(e)} batch ${JSON.stringify(b)}`);
    }
    expect(mismatches, 'labels differing from kennel evaluate').to.deep.equal([]);
    const perClass = Object.values(summary.perClass).reduce((a, b) => a + b, 0);
    expect(perClass).to.equal(2 * PER_CLASS);
  });

  it('makes a new Job for a new spec, and deletes the old one', async () => {
    const before = (await kube.get<Batch>(Resources.batchPrediction, ns, 'relabel'))?.status?.jobName;
    await kube.request({ method: 'PATCH', path: `/apis/kennel.dev/v1alpha1/namespaces/${ns}/batchpredictions/relabel`, body: { spec: { parallelism: 2 } }, contentType: 'application/merge-patch+json' });
    const again = await waitForStatus<Batch>(kube, Resources.batchPrediction, ns, 'relabel', (o) => o.status?.jobName !== before && o.status?.phase === 'Succeeded', 'batch relabel to run again with 2 shards', 300_000);
    expect(again.status?.results?.images).to.equal(2 * PER_CLASS + 2);
    await waitFor(async () => ((await list(kube, Resources.job, ns)).some((j) => j.metadata?.name === before) ? undefined : true), { timeoutMs: 30_000, what: 'the old Job deleted' });
    const summary = JSON.parse((await gcs.read(`gs://${BUCKET}/labels/run-1/summary.json`)).toString('utf8')) as BatchSummary;
    expect(summary.files).to.deep.equal(['predictions-00000-of-00002.jsonl', 'predictions-00001-of-00002.jsonl']);
  });

  it('waits, saying why, for an InferenceService that does not exist', async () => {
    await kube.create(Resources.batchPrediction, batch('from-service', { input: { uri: `gs://${BUCKET}/photos` }, model: { inferenceService: 'nobody' } }));
    const waiting = await waitForStatus<Batch>(kube, Resources.batchPrediction, ns, 'from-service', (o) => o.status?.phase === 'Pending', 'batch from-service to wait');
    expect(waiting.status?.conditions?.find((c) => c.type === 'Ready')).to.deep.include({ status: 'False', reason: 'WaitingForModel', message: 'waiting for InferenceService nobody, which does not exist' });
    expect((await list(kube, Resources.job, ns, 'kennel.dev/batch-prediction=from-service')).length).to.equal(0);
  });
});

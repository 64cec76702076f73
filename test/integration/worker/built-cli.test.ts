import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { Storage as GcsClient } from '@google-cloud/storage';
import { WorkerOutcome } from '../../../src/shared/api/worker-report.js';
import { createFileStorage, storageFor } from '../../../src/shared/storage/index.js';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';
import { jsonLines } from './capture.js';
import { writeSyntheticDataset } from './synthetic-dataset.js';

const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

function kennel(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The built `kennel` (dist/cli.js, what the worker image and the test bed's node agent run)
 * with the production training loop, against fake-gcs-server: the operator's view of a run.
 */
describe('built kennel CLI: train and evaluate on gs://', function () {
  this.timeout(600_000);
  let gcs: FakeGcs;
  let dir: string;

  before(async function () {
    if (!existsSync(CLI)) {
      console.log(`    skipping: ${CLI} is absent (run npm run build first)`);
      this.skip();
    }
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-cli-it-'));
    await writeSyntheticDataset(path.join(dir, 'data'), { perClass: 30, size: 40 });
    gcs = await startFakeGcs();
    await new GcsClient({ apiEndpoint: gcs.endpoint, projectId: 'test' }).createBucket('kennel-cli');
    const local = createFileStorage();
    const remote = storageFor('gs://kennel-cli', { env: { KENNEL_GCS_ENDPOINT: gcs.endpoint } });
    for (const e of await local.list(path.join(dir, 'data'))) await remote.write(`gs://kennel-cli/data/${e.name}`, await local.read(e.uri));
  });
  after(async () => {
    await gcs?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trains with JSON epoch lines on stdout, exits 0, writes the outcome, and evaluates the artifact', async () => {
    const term = path.join(dir, 'termination-log');
    const env = { KENNEL_GCS_ENDPOINT: gcs.endpoint, KENNEL_TERMINATION_LOG: term };
    const out = 'gs://kennel-cli/models/m/v1';
    const res = await kennel(['train', '--data', 'gs://kennel-cli/data', '--out', out, '--epochs', '2', '--image-size', '32', '--batch-size', '16'], env);
    expect(res.code, res.stderr).to.equal(0);
    const lines = res.stdout.split('\n').filter((l) => l.trim().length > 0);
    expect(lines.every((l) => l.startsWith('{')), 'stdout holds JSON lines only').to.equal(true);
    const epochs = jsonLines(res.stdout).filter((l) => l.event === 'epoch');
    expect(epochs.map((l) => [l.epoch, l.epochs])).to.deep.equal([[1, 2], [2, 2]]);
    expect(epochs.every((l) => typeof l.loss === 'number' && typeof l.imagesPerSecond === 'number')).to.equal(true);
    const outcome: unknown = JSON.parse(await readFile(term, 'utf8'));
    expect(Value.Check(WorkerOutcome, outcome)).to.equal(true);
    expect(outcome).to.include({ outcome: 'Succeeded', artifactUri: out, skippedFiles: 3 });

    const evaluated = await kennel(['evaluate', '--model', out, '--data', 'gs://kennel-cli/data', '--split', 'test', '--json'], env);
    expect(evaluated.code, evaluated.stderr).to.equal(0);
    const metrics = JSON.parse(evaluated.stdout.trim()) as { accuracy: number; testImages: number };
    expect(metrics.accuracy).to.equal((outcome as { metrics: { accuracy: number } }).metrics.accuracy);
    expect(metrics.testImages).to.equal((outcome as { metrics: { testImages: number } }).metrics.testImages);
  });

  it('exits 1 with the failure reason in the termination message', async () => {
    const term = path.join(dir, 'termination-log-failed');
    const res = await kennel(['train', '--data', 'gs://kennel-cli/absent', '--out', 'gs://kennel-cli/x'], { KENNEL_GCS_ENDPOINT: gcs.endpoint, KENNEL_TERMINATION_LOG: term });
    expect(res.code).to.equal(1);
    expect(res.stderr).to.include('kennel train failed (DatasetNotFound)');
    expect(JSON.parse(await readFile(term, 'utf8'))).to.include({ outcome: 'Failed', reason: 'DatasetNotFound' });
    const evaluated = await kennel(['evaluate', '--model', 'gs://kennel-cli/models/none', '--data', 'gs://kennel-cli/data'], { KENNEL_GCS_ENDPOINT: gcs.endpoint });
    expect(evaluated.code).to.equal(1);
    expect(evaluated.stderr).to.include('kennel evaluate failed (InvalidArguments): no model artifact at gs://kennel-cli/models/none');
  });
});

import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { Storage as GcsClient } from '@google-cloud/storage';
import sharp from 'sharp';
import { EpochProgress, WorkerOutcome, type WorkerSuccess } from '../../../src/shared/api/worker-report.js';
import { createFileStorage, storageFor } from '../../../src/shared/storage/index.js';
import { run as train } from '../../../src/worker/train/command.js';
import { run as evaluate } from '../../../src/worker/evaluate/command.js';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';
import { captureStream, jsonLines } from './capture.js';
import { writeSyntheticDataset } from './synthetic-dataset.js';
import { tinyFit } from './tiny-fit.js';
import { loadDataset } from '../../../src/worker/dataset/load-dataset.js';
import { feedbackRecord, testImage, writeFeedbackLog } from '../../../src/worker/dataset/test-support/prediction-log-fixture.js';

const BASE_ARGS = { architecture: 'compact-cnn', epochs: '8', imageSize: '32', batchSize: '8', backend: 'cpu', patience: '0', learningRate: '0.05', split: '0.7,0.1,0.2' };

async function readOutcome(file: string): Promise<WorkerOutcome> {
  const text = await readFile(file, 'utf8');
  expect(Buffer.byteLength(text)).to.be.at.most(4096);
  const outcome: unknown = JSON.parse(text);
  expect(Value.Check(WorkerOutcome, outcome), JSON.stringify([...Value.Errors(WorkerOutcome, outcome)].slice(0, 3))).to.equal(true);
  return outcome as WorkerOutcome;
}

describe('kennel train + evaluate on a generated dataset', function () {
  this.timeout(300_000);
  let dir: string;
  let data: string;
  let expected: { skipped: string[]; duplicates: string[] };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-train-it-'));
    data = path.join(dir, 'data');
    expected = await writeSyntheticDataset(data, { perClass: 30, size: 40 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains to file://: artifact, metrics.json, report, JSON epoch lines and the termination message', async () => {
    const out = pathToFileURL(path.join(dir, 'model')).href;
    const stdout = captureStream();
    const stderr = captureStream();
    const term = path.join(dir, 'termination-file');
    const code = await train({ ...BASE_ARGS, data, out }, { fit: tinyFit, stdout: stdout.stream, stderr: stderr.stream, env: { KENNEL_TERMINATION_LOG: term } });
    expect(code, stderr.text()).to.equal(0);

    const lines = jsonLines(stdout.text());
    const epochs = lines.filter((l) => l.event === 'epoch');
    expect(epochs.map((l) => l.epoch)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const l of epochs) expect(Value.Check(EpochProgress, Value.Clean(EpochProgress, structuredClone(l)))).to.equal(true);
    expect(epochs.every((l) => l.epochs === 8 && typeof l.valLoss === 'number')).to.equal(true);
    expect(lines.some((l) => l.msg === 'tensorflow backend selected' && l.backend === 'cpu')).to.equal(true);

    const outcome = await readOutcome(term);
    expect(outcome.outcome).to.equal('Succeeded');
    const ok = outcome as WorkerSuccess;
    expect(ok).to.include({ artifactUri: out, format: 'tfjs-layers', skippedFiles: expected.skipped.length, backend: 'cpu', datasetUri: data });
    expect(ok.classes).to.deep.equal(['bright', 'dark']);
    expect(ok.inputShape).to.deep.equal([32, 32, 3]);
    expect(ok.metrics.testImages).to.be.greaterThan(5);
    expect(ok.metrics.accuracy, JSON.stringify(ok.metrics)).to.be.at.least(0.9);

    const root = path.join(dir, 'model');
    expect((await readdir(root)).sort()).to.deep.equal(['metadata.json', 'metrics.json', 'model.json', 'report', 'weights.bin']);
    const mistakes = ok.metrics.accuracy < 1 ? ['mistakes'] : [];
    expect((await readdir(path.join(root, 'report'))).sort()).to.deep.equal(['confidence.png', 'confusion.png', 'curves.png', 'index.html', ...mistakes, 'reliability.png']);
    const metadata = JSON.parse(await readFile(path.join(root, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(metadata).to.include({ sha256: ok.sha256, architecture: 'compact-cnn', backend: 'cpu' });
    expect(metadata.dataset).to.deep.equal({ uri: data, digest: ok.datasetDigest });
    expect(metadata.preprocessing).to.deep.equal({ resize: 'cover', size: 32, scale: 1 / 255 });
    const metrics = JSON.parse(await readFile(path.join(root, 'metrics.json'), 'utf8')) as {
      accuracy: number;
      dataset: { skipped: { name: string }[]; duplicates: { name: string }[] };
      training: { history: unknown[] };
    };
    expect(metrics.accuracy).to.equal(ok.metrics.accuracy);
    expect(metrics.dataset.skipped.map((s) => s.name)).to.deep.equal(expected.skipped);
    expect(metrics.dataset.duplicates.map((s) => s.name)).to.deep.equal(expected.duplicates);
    expect(metrics.training.history).to.have.length(8);
    for (const png of ['curves.png', 'confusion.png', 'confidence.png', 'reliability.png']) {
      const meta = await sharp(path.join(root, 'report', png)).metadata();
      expect(meta.format).to.equal('png');
      expect(meta.width).to.be.greaterThan(300);
    }
    const html = await readFile(path.join(root, 'report', 'index.html'), 'utf8');
    for (const s of ['curves.png', 'confusion.png', 'bright/broken.jpg', 'dark/notes.txt', ok.sha256]) expect(html).to.include(s);

    // kennel evaluate on the same split reproduces the figures of the train run.
    const evalOut = captureStream();
    const evalErr = captureStream();
    const evalCode = await evaluate({ model: out, data, split: 'test', json: true, backend: 'cpu' }, { stdout: evalOut.stream, stderr: evalErr.stream });
    expect(evalCode, evalErr.text()).to.equal(0);
    const evaluated = jsonLines(evalOut.text())[0] as Record<string, unknown>;
    expect(evaluated.accuracy).to.equal(ok.metrics.accuracy);
    expect(evaluated.confusionMatrix).to.deep.equal(ok.metrics.confusionMatrix);
    expect(evaluated.skippedFiles).to.equal(3);

    const table = captureStream();
    expect(await evaluate({ model: out, data, backend: 'cpu' }, { stdout: table.stream, stderr: captureStream().stream })).to.equal(0);
    expect(table.text()).to.match(/accuracy\s+\d+\.\d%/);
    expect(table.text()).to.match(/actual \\ predicted\s+bright\s+dark/);
    expect(table.text()).to.include('3 files skipped');
  });

  it('trains on several sources (class folders and a prediction log\'s corrections) and reports every source with its digest', async () => {
    const log = pathToFileURL(path.join(dir, 'log')).href;
    const storage = createFileStorage();
    const imgs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => testImage(i < 3 ? 220 : 30, 100 + i)));
    await writeFeedbackLog(
      storage,
      log,
      imgs.map((img, i) => feedbackRecord({ id: `p${i}`, sha256: img.sha256, label: i < 3 ? 'bright' : 'dark', predicted: 'dark', model: 'pets' })),
      imgs.map((img) => img.bytes),
    );
    const out = pathToFileURL(path.join(dir, 'model-2')).href;
    const term = path.join(dir, 'termination-2');
    const stderr = captureStream();
    const code = await train({ ...BASE_ARGS, epochs: '2', data: [data], predictionLog: [log], out }, { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: { KENNEL_TERMINATION_LOG: term } });
    expect(code, stderr.text()).to.equal(0);
    const ok = (await readOutcome(term)) as WorkerSuccess;
    expect(ok.datasetUri).to.equal(data);
    expect(ok.datasetSources?.map((src) => [src.uri, src.type, src.images])).to.deep.equal([
      [data, 'ClassFolders', 60],
      [log, 'PredictionLog', 6],
    ]);
    const alone = await loadDataset({ uri: data, storage, imageSize: 32 });
    expect(ok.datasetSources?.[0]?.digest).to.equal(alone.digest);
    expect(ok.datasetDigest).to.not.equal(alone.digest);
    const metrics = JSON.parse(await readFile(path.join(dir, 'model-2', 'metrics.json'), 'utf8')) as { dataset: { sources: { uri: string; feedback?: { records: number } }[] } };
    expect(metrics.dataset.sources[1]?.feedback?.records).to.equal(6);
  });

  it('fails with a reason, exit code 1 and a termination message', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ data: path.join(dir, 'absent') }, 'DatasetNotFound', /no files under/],
      [{ data, classes: 'bright,horse' }, 'InvalidDataset', /no folder for class "horse"/],
      [{ data, epochs: 'many' }, 'InvalidArguments', /--epochs must be an integer/],
      [{ data, split: '0.5,0.5,0.5' }, 'InvalidArguments', /sum to 1/],
      [{ data, out: 's3://bucket/x' }, 'InvalidArguments', /unsupported scheme/],
    ];
    for (const [args, reason, message] of cases) {
      const term = path.join(dir, `term-${reason}`);
      const stderr = captureStream();
      const code = await train({ ...BASE_ARGS, out: path.join(dir, 'never'), ...args }, { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: { KENNEL_TERMINATION_LOG: term } });
      expect(code).to.equal(1);
      expect(stderr.text()).to.include(`kennel train failed (${reason})`);
      const outcome = await readOutcome(term);
      expect(outcome).to.include({ outcome: 'Failed', reason });
      expect((outcome as { message: string }).message).to.match(message);
    }
  });

  describe('on gs:// (fake-gcs-server)', () => {
    let gcs: FakeGcs;
    before(async () => {
      gcs = await startFakeGcs();
      await new GcsClient({ apiEndpoint: gcs.endpoint, projectId: 'test' }).createBucket('kennel-data');
      const env = { KENNEL_GCS_ENDPOINT: gcs.endpoint };
      const local = createFileStorage();
      const remote = storageFor('gs://kennel-data', { env });
      for (const e of await local.list(data)) await remote.write(`gs://kennel-data/cats-and-dogs/${e.name}`, await local.read(e.uri));
    });
    after(async () => {
      await gcs?.stop();
    });

    it('reads the dataset from and writes the model to the bucket, then evaluates from it', async () => {
      const env = { KENNEL_GCS_ENDPOINT: gcs.endpoint, KENNEL_TERMINATION_LOG: path.join(dir, 'term-gcs') };
      const out = 'gs://kennel-data/models/bright-dark/v1';
      const stderr = captureStream();
      const stdout = captureStream();
      const code = await train({ ...BASE_ARGS, data: 'gs://kennel-data/cats-and-dogs', out }, { fit: tinyFit, stdout: stdout.stream, stderr: stderr.stream, env });
      expect(code, stderr.text()).to.equal(0);
      const outcome = (await readOutcome(env.KENNEL_TERMINATION_LOG)) as WorkerSuccess;
      expect(outcome).to.include({ outcome: 'Succeeded', artifactUri: out, skippedFiles: 3 });
      expect(outcome.metrics.accuracy).to.be.at.least(0.9);
      const listed = (await storageFor(out, { env }).list(out)).map((e) => e.name);
      const thumbnails = listed.filter((name) => name.startsWith('report/mistakes/'));
      const wrong = Math.round(outcome.metrics.testImages * (1 - outcome.metrics.accuracy));
      expect(thumbnails, 'a thumbnail per shown mistake, read from the bucket').to.have.length(Math.min(12, wrong));
      expect(listed.filter((name) => !thumbnails.includes(name))).to.deep.equal(['metadata.json', 'metrics.json', 'model.json', 'report/confidence.png', 'report/confusion.png', 'report/curves.png', 'report/index.html', 'report/reliability.png', 'weights.bin']);
      // Same bytes, same split, same digest as on file://.
      const fileOutcome = await readOutcome(path.join(dir, 'termination-file')).catch(() => undefined);
      if (fileOutcome?.outcome === 'Succeeded') expect(outcome.datasetDigest).to.equal(fileOutcome.datasetDigest);

      const evalOut = captureStream();
      const evalErr = captureStream();
      expect(await evaluate({ model: out, data: 'gs://kennel-data/cats-and-dogs', split: 'test', json: true, backend: 'cpu' }, { stdout: evalOut.stream, stderr: evalErr.stream, env }), evalErr.text()).to.equal(0);
      expect(jsonLines(evalOut.text())[0]?.accuracy).to.equal(outcome.metrics.accuracy);
    });

    it('reports a missing bucket as DatasetNotFound', async () => {
      const term = path.join(dir, 'term-gcs-missing');
      const code = await train(
        { ...BASE_ARGS, data: 'gs://no-such-bucket/data', out: 'gs://kennel-data/x' },
        { fit: tinyFit, stdout: captureStream().stream, stderr: captureStream().stream, env: { KENNEL_GCS_ENDPOINT: gcs.endpoint, KENNEL_TERMINATION_LOG: term } },
      );
      expect(code).to.equal(1);
      expect(await readOutcome(term)).to.include({ outcome: 'Failed', reason: 'DatasetNotFound' });
    });
  });
});

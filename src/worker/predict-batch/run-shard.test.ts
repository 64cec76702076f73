import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { saveArtifact } from '../../ml/artifact.js';
import { createFileStorage, type Storage } from '../../shared/storage/index.js';
import type { BatchProgress, BatchSummary } from '../../shared/api/batch-report.js';
import { loadClassifier, type BatchClassifier } from './classifier.js';
import { parsePart } from './commit-log.js';
import { parseBatchOptions } from './options.js';
import { runShard } from './run-shard.js';

const SIZE = 4;
const silent = pino({ level: 'silent' });

/** A fixed function of mean brightness: bright → class 0, dark → class 1. */
function brightnessModel(): tf.LayersModel {
  const m = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [SIZE, SIZE, 3] }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
  m.setWeights([tf.tensor2d([[10, -10], [10, -10], [10, -10]]), tf.tensor1d([-15, 15])]);
  return m;
}

async function png(value: number): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: { r: value, g: value, b: value } } }).png().toBuffer();
}

/** Storage whose writes of parts fail from the `failAt`-th on, as if the pod died there. */
function dyingAfter(storage: Storage, failAt: number): Storage {
  let parts = 0;
  return {
    ...storage,
    async write(uri, data, options) {
      if (/part-\d+\.jsonl$/.test(uri) && ++parts >= failAt) throw new Error('killed');
      return storage.write(uri, data, options);
    },
  };
}

describe('predict-batch shard run (real model artifact, real files)', function () {
  this.timeout(30_000);
  let dir: string;
  let classifier: BatchClassifier;
  const storage = createFileStorage();
  const values = Array.from({ length: 40 }, (_, i) => (i % 2 ? 230 : 20));
  const expectedLabel = (name: string) => (Number(/(\d+)/.exec(name)?.[1]) % 2 ? 'bright' : 'dark');

  before(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-batch-'));
    const m = brightnessModel();
    const meta = {
      classes: ['bright', 'dark'], inputShape: [SIZE, SIZE, 3] as [number, number, 3], preprocessing: { resize: 'cover' as const, size: SIZE, scale: 1 / 255 },
      dataset: { uri: '/d', digest: 'x' }, hyperparameters: {}, architecture: 'test', backend: 'cpu', codeVersion: 't', createdAt: new Date().toISOString(),
    };
    const saved = await saveArtifact(path.join(dir, 'model'), m, meta, storage);
    m.dispose();
    await mkdir(path.join(dir, 'in', 'a'), { recursive: true });
    await Promise.all(values.map(async (v, i) => writeFile(path.join(dir, 'in', i < 20 ? 'a' : '', `img-${String(i).padStart(3, '0')}.png`), await png(v))));
    await writeFile(path.join(dir, 'in', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]));
    await writeFile(path.join(dir, 'in', 'notes.txt'), 'not an image');
    await writeFile(path.join(dir, 'in', '.DS_Store'), 'hidden');
    classifier = await loadClassifier(path.join(dir, 'model'), storage, saved.sha256);
  });
  after(async () => {
    classifier?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const options = (out: string, shard: number, shards = 2) =>
    parseBatchOptions({ model: path.join(dir, 'model'), input: path.join(dir, 'in'), output: path.join(dir, out), shards: String(shards), shard: String(shard), batchSize: '3' }, {});

  it('classifies every image of its shard once, lists unreadable ones, and writes the summary only when every shard is done', async () => {
    const progress: BatchProgress[] = [];
    const first = await runShard(options('out', 0), { storageFor: () => storage, classifier, logger: silent, report: (p) => progress.push(p) });
    expect(first.summaryUri).to.equal(undefined);
    expect(existsSync(path.join(dir, 'out', 'summary.json'))).to.equal(false);
    const second = await runShard(options('out', 1), { storageFor: () => storage, classifier, logger: silent, report: () => undefined });
    expect(second.summaryUri).to.equal(path.join(dir, 'out', 'summary.json'));
    expect(first.total).to.equal(42);
    expect(first.images + second.images).to.equal(42);
    expect(progress.at(-1)).to.deep.include({ done: first.images, images: first.images, total: 42 });

    const summary = JSON.parse(await readFile(path.join(dir, 'out', 'summary.json'), 'utf8')) as BatchSummary;
    expect(summary).to.deep.include({ images: 42, predicted: 40, failed: 2, perClass: { bright: 20, dark: 20 }, shards: 2 });
    expect(summary.failures.map((f) => [f.path, f.reason]).sort()).to.deep.equal([['broken.jpg', 'corrupt'], ['notes.txt', 'unsupported-format']]);
    expect(summary.model.sha256).to.equal(classifier.sha256);
    const lines = (await Promise.all(summary.files.map((f) => readFile(path.join(dir, 'out', f), 'utf8')))).flatMap((t) => parsePart(t) ?? []);
    expect(lines.map((l) => l.path).sort()).to.have.length(42);
    for (const line of lines) if ('label' in line) expect(line.label, line.path).to.equal(expectedLabel(line.path));
  });

  it('resumes after a pod dies mid-shard: nothing committed is redone, nothing is lost or doubled', async () => {
    const all = await runShard(options('whole', 0, 1), { storageFor: () => storage, classifier, logger: silent, report: () => undefined });
    let died: unknown;
    try {
      await runShard(options('resumed', 0, 1), { storageFor: () => dyingAfter(storage, 4), classifier, logger: silent, report: () => undefined });
    } catch (err) {
      died = err;
    }
    expect((died as Error | undefined)?.message).to.equal('killed');
    const again = await runShard(options('resumed', 0, 1), { storageFor: () => storage, classifier, logger: silent, report: () => undefined });
    expect(again.resumed).to.equal(9);
    expect(again).to.deep.include({ images: 42, predicted: 40, failed: 2 });
    const whole = await readFile(path.join(dir, 'whole', 'predictions-00000-of-00001.jsonl'), 'utf8');
    const resumed = await readFile(path.join(dir, 'resumed', 'predictions-00000-of-00001.jsonl'), 'utf8');
    // Line for line the same records. A failure's message is compared by its start only: sharp
    // appends libvips's error buffer, and whether "VipsJpeg: premature end of JPEG image" is in
    // it yet varies from one decode of the same bytes to the next.
    const stable = (text: string): unknown[] =>
      text.split('\n').filter(Boolean).map((l) => {
        const record = JSON.parse(l) as { error?: { reason: string; message: string } };
        return record.error ? { ...record, error: { reason: record.error.reason, message: record.error.message.split(':')[0] } } : record;
      });
    expect(stable(resumed)).to.deep.equal(stable(whole));
    expect(resumed.split('\n').filter(Boolean)).to.have.length(42);
    expect(all.resumed).to.equal(0);
  });

  it('refuses an artifact whose digest is not the registered one', async () => {
    let err: unknown;
    try {
      await loadClassifier(path.join(dir, 'model'), storage, 'f'.repeat(64));
    } catch (e) {
      err = e;
    }
    expect((err as { reason?: string }).reason).to.equal('digest-mismatch');
  });
});

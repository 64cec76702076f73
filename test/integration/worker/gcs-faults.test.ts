import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { Value } from '@sinclair/typebox/value';
import { loadArtifact, saveArtifact } from '../../../src/ml/artifact.js';
import { WorkerOutcome, type WorkerSuccess } from '../../../src/shared/api/worker-report.js';
import { createFileStorage, StorageError, type Storage } from '../../../src/shared/storage/index.js';
import { run as train } from '../../../src/worker/train/command.js';
import { captureStream } from './capture.js';
import { startFaultyBucket, type FaultyBucket } from './faulty-bucket.js';
import type { FlakyProxy } from './flaky-proxy.js';
import { writeSyntheticDataset } from './synthetic-dataset.js';
import { tinyFit } from './tiny-fit.js';

const BUCKET = 'kennel-faults';
/** Short timeouts so that a stall costs seconds, not the production minute. */
const FAST = { retryDelayMultiplier: 1.1, maxRetryDelay: 1, maxRetries: 4, requestTimeoutMs: 1_000, totalTimeout: 8 };
/** For the cases that wait for the overall deadline: a shorter one. */
const DEADLINE = { ...FAST, totalTimeout: 4 };

/** `size` bytes that differ from one offset to the next, so a shifted or patched copy never equals them. */
function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  return data;
}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function timed<T>(op: Promise<T>): Promise<{ value?: T; error?: unknown; seconds: number }> {
  const started = performance.now();
  try {
    const value = await op;
    return { value, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    return { error, seconds: (performance.now() - started) / 1000 };
  }
}

/**
 * The bucket misbehaves: a real fake-gcs-server behind a proxy that answers 429/503, resets
 * connections, stalls, and truncates or corrupts bodies. Storage retries and finishes; a stall
 * is bounded by a timeout and reported; a damaged artifact is never loaded; a real `kennel train`
 * reads its dataset and writes its model through scattered faults.
 */
describe('gs:// storage when the bucket misbehaves', function () {
  this.timeout(240_000);
  let bucket: FaultyBucket;
  let proxy: FlakyProxy;
  let storage: Storage;

  before(async () => {
    bucket = await startFaultyBucket(BUCKET);
    proxy = bucket.proxy;
    storage = bucket.storage(FAST);
  });
  afterEach(() => proxy.restore());
  after(() => bucket?.close());

  it('connection resets: read, write, list and stat retry and finish', async () => {
    const uri = `gs://${BUCKET}/resets/a.bin`;
    proxy.faultNext(2, { kind: 'reset' });
    await storage.write(uri, Buffer.alloc(1000, 7));
    proxy.faultNext(2, { kind: 'reset' });
    expect((await storage.read(uri)).equals(Buffer.alloc(1000, 7))).to.equal(true);
    proxy.faultNext(2, { kind: 'reset' });
    expect((await storage.list(`gs://${BUCKET}/resets`)).map((e) => e.name)).to.deep.equal(['a.bin']);
    proxy.faultNext(1, { kind: 'reset' });
    expect((await storage.stat(uri)).size).to.equal(1000);
    expect(proxy.injected().reset).to.equal(7);
  });

  it('a stalled request is abandoned after the request timeout and retried; the operation finishes', async () => {
    const uri = `gs://${BUCKET}/stall/once.txt`;
    await storage.write(uri, 'after a stall');
    proxy.faultNext(1, { kind: 'stall' });
    const r = await timed(storage.read(uri));
    expect(r.error).to.equal(undefined);
    expect(r.value?.toString()).to.equal('after a stall');
    expect(r.seconds, 'one request timeout (1 s), then the retry').to.be.within(0.9, FAST.totalTimeout);
    proxy.faultNext(1, { kind: 'stall' });
    const w = await timed(storage.write(`gs://${BUCKET}/stall/written.txt`, 'written after a stall'));
    expect(w.error).to.equal(undefined);
    expect((await storage.read(`gs://${BUCKET}/stall/written.txt`)).toString()).to.equal('written after a stall');
    console.log(`      stall once: read ${r.seconds.toFixed(1)} s, write ${w.seconds.toFixed(1)} s`);
  });

  it('a bucket that stalls for good: every operation ends within its deadline with Unavailable, saying why', async () => {
    const short = bucket.storage(DEADLINE);
    await storage.write(`gs://${BUCKET}/stall/forever.txt`, 'x');
    proxy.faultNext(Number.POSITIVE_INFINITY, { kind: 'stall' });
    const ops: Record<string, () => Promise<unknown>> = {
      read: () => short.read(`gs://${BUCKET}/stall/forever.txt`),
      readStream: () => drain(short.readStream(`gs://${BUCKET}/stall/forever.txt`)),
      write: () => short.write(`gs://${BUCKET}/stall/never.txt`, 'never'),
      list: () => short.list(`gs://${BUCKET}/stall`),
    };
    const results = await Promise.all(Object.entries(ops).map(async ([name, op]) => ({ name, r: await timed(op()) })));
    for (const { name, r } of results) {
      expect(r.error, name).to.be.instanceOf(StorageError).with.property('reason', 'Unavailable');
      expect((r.error as Error).message, name).to.match(new RegExp(`within ${DEADLINE.totalTimeout} s|timeout|after retries`, 'i'));
      expect(r.seconds, `${name} bounded by totalTimeout`).to.be.at.most(DEADLINE.totalTimeout + 2);
      console.log(`      stalled for good: ${name} gave up after ${r.seconds.toFixed(1)} s: ${(r.error as Error).message.slice(0, 120)}`);
    }
  });

  it('a download that stalls mid-body once is abandoned after requestTimeoutMs of silence and retried: identical bytes in seconds', async () => {
    const uri = `gs://${BUCKET}/midbody/once.bin`;
    const data = pattern(256 * 1024);
    await storage.write(uri, data);
    const before = proxy.injected()['stall-body'];
    proxy.faultNext(1, { kind: 'stall-body' }, /midbody/);
    const r = await timed(storage.read(uri));
    expect(r.error).to.equal(undefined);
    expect(r.value!.equals(data), 'the bytes of the object').to.equal(true);
    expect(proxy.injected()['stall-body'] - before, 'the stall happened').to.equal(1);
    expect(r.seconds, 'one idle timeout (1 s) and a backoff, far below the 8 s deadline').to.be.within(0.9, 4);
    console.log(`      stalled mid-body once: read whole in ${r.seconds.toFixed(1)} s`);
  });

  it('a download stalled mid-body for good ends with Unavailable naming the object: read() at its deadline, a stream after one idle timeout', async () => {
    const uri = `gs://${BUCKET}/midbody/forever.bin`;
    await storage.write(uri, pattern(64 * 1024));
    proxy.faultNext(Number.POSITIVE_INFINITY, { kind: 'stall-body' }, /midbody/);
    const short = bucket.storage(DEADLINE);
    const [read, streamed] = await Promise.all([timed(short.read(uri)), timed(drain(short.readStream(uri)))]);
    for (const [name, r] of [['read', read], ['readStream', streamed]] as const) {
      expect(r.error, name).to.be.instanceOf(StorageError).with.property('reason', 'Unavailable');
      expect((r.error as Error).message, name).to.include(uri);
      console.log(`      stalled mid-body for good: ${name} gave up after ${r.seconds.toFixed(1)} s: ${(r.error as Error).message.slice(0, 140)}`);
    }
    expect(read.seconds, 'read: retried until its deadline').to.be.within(DEADLINE.totalTimeout - 0.5, DEADLINE.totalTimeout + 2);
    expect((streamed.error as Error).message).to.match(/sent nothing for 1 s in the middle of/);
    expect(streamed.seconds, 'readStream: one idle timeout').to.be.within(0.9, 3);
  });

  it('a stream read slowly is not timed out, nor broken by a stalled download abandoned beside it: every byte arrives', async () => {
    const uri = `gs://${BUCKET}/slow/reader.bin`;
    const data = pattern(2 * 1024 * 1024);
    await storage.write(uri, data);
    const other = `gs://${BUCKET}/slow/stalls.bin`;
    await storage.write(other, pattern(64 * 1024));
    const chunks: Buffer[] = [];
    let beside: Promise<Buffer> | undefined;
    for await (const c of storage.readStream(uri)) {
      chunks.push(c as Buffer);
      if (!beside && chunks.length === 4) {
        // While the consumer pauses for longer than the idle timeout, a read beside it stalls
        // mid-body and is abandoned (the client destroys the agent of a failed stream).
        proxy.faultNext(1, { kind: 'stall-body' }, /stalls/);
        beside = storage.read(other);
        await delay(FAST.requestTimeoutMs * 1.6);
      }
    }
    expect(Buffer.concat(chunks).equals(data), 'the slow stream, whole').to.equal(true);
    expect((await beside!).equals(pattern(64 * 1024)), 'the stalled read, retried').to.equal(true);
  });

  it('bursts of 429 and 503: a 2 MiB object is written and read back whole', async () => {
    const uri = `gs://${BUCKET}/bursts/big.bin`;
    const data = pattern(2 * 1024 * 1024);
    proxy.faultNext(3, { kind: 'status', status: 429 });
    await storage.write(uri, data);
    proxy.faultNext(3, { kind: 'status', status: 503 });
    expect((await storage.read(uri)).equals(data)).to.equal(true);
  });

  it('a truncated or corrupted download is retried: the bytes read are those of the object', async () => {
    const uri = `gs://${BUCKET}/damaged/blob.bin`;
    const data = pattern(256 * 1024);
    await storage.write(uri, data);
    for (const kind of ['truncate', 'corrupt'] as const) {
      const before = proxy.injected()[kind];
      proxy.faultNext(1, { kind }, /damaged/);
      const r = await timed(storage.read(uri));
      expect(r.error, `${kind}: retried, not refused`).to.equal(undefined);
      expect(r.value!.equals(data), `${kind}: bytes returned must be the object's`).to.equal(true);
      expect(proxy.injected()[kind] - before, `${kind} happened`).to.equal(1);
      expect(r.seconds, `${kind}: far below the 8 s deadline`).to.be.below(4);
      console.log(`      ${kind} once: retried, whole object read in ${r.seconds.toFixed(1)} s`);
    }
  });

  it('a download corrupted on every attempt is retried at once, twice, then fails with Unavailable naming the object and the checksum mismatch', async () => {
    const uri = `gs://${BUCKET}/damaged/always.bin`;
    await storage.write(uri, pattern(64 * 1024));
    const before = proxy.injected().corrupt;
    proxy.faultNext(Number.POSITIVE_INFINITY, { kind: 'corrupt' }, /damaged/);
    const r = await timed(storage.read(uri));
    expect(r.error).to.be.instanceOf(StorageError).with.property('reason', 'Unavailable');
    expect((r.error as Error).message).to.equal(
      `the bytes GCS sent for ${uri} did not match the object's checksum (CRC32C/MD5 in x-goog-hash): corrupted in transit (3 attempts)`,
    );
    expect(proxy.injected().corrupt - before, 'the first attempt and two retries (CHECKSUM_RETRIES), of the 4 maxRetries allows').to.equal(3);
    expect(r.seconds, 'no backoff between checksum retries').to.be.below(1.5);
    console.log(`      corrupt every time: failed after 3 attempts in ${r.seconds.toFixed(2)} s`);
  });

  it('an artifact whose weights arrive corrupted or cut short is never loaded (sha256); read again whole, it loads', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [64], units: 32, activation: 'relu' }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    const uri = `gs://${BUCKET}/models/m/v1`;
    const meta = await saveArtifact(
      uri,
      model,
      {
        classes: ['a', 'b'],
        inputShape: [2, 2, 3],
        preprocessing: { resize: 'cover', size: 2, scale: 1 / 255 },
        dataset: { uri: 'gs://x/y', digest: 'd' },
        hyperparameters: {},
        architecture: 'dense',
        backend: 'cpu',
        codeVersion: 'test',
        createdAt: new Date().toISOString(),
      },
      storage,
    );
    model.dispose();
    // No retries: the damaged answer is the only one the loader sees.
    const once = bucket.storage({ ...FAST, maxRetries: 0 });
    for (const kind of ['corrupt', 'truncate'] as const) {
      proxy.faultNext(1, { kind }, /weights\.bin/);
      const r = await timed(loadArtifact(uri, once));
      expect(r.error, `${kind} weights must not load`).to.be.instanceOf(Error);
      console.log(`      ${kind} weights: not loaded: ${(r.error as { reason?: string }).reason ?? ''} ${(r.error as Error).message.slice(0, 100)}`);
    }
    const loaded = await loadArtifact(uri, once);
    expect(loaded.metadata.sha256).to.equal(meta.sha256);
    loaded.model.dispose();
  });

  it('kennel train reads its dataset and writes its model through scattered 429s, 503s and resets', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-gcs-faults-'));
    try {
      await writeSyntheticDataset(path.join(dir, 'data'), { perClass: 12, size: 32 });
      const local = createFileStorage();
      for (const e of await local.list(path.join(dir, 'data'))) await storage.write(`gs://${BUCKET}/train-data/${e.name}`, await local.read(e.uri));
      const before = proxy.injected();
      proxy.faultEvery(5, [{ kind: 'status', status: 503 }, { kind: 'reset' }, { kind: 'status', status: 429 }]);
      const term = path.join(dir, 'termination');
      const stderr = captureStream();
      const out = `gs://${BUCKET}/models/faulty/v1`;
      const started = performance.now();
      const code = await train(
        { architecture: 'compact-cnn', epochs: '2', imageSize: '32', batchSize: '8', backend: 'cpu', patience: '0', learningRate: '0.05', split: '0.7,0.1,0.2', data: `gs://${BUCKET}/train-data`, out },
        { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: { ...bucket.env, KENNEL_TERMINATION_LOG: term } },
      );
      const seconds = (performance.now() - started) / 1000;
      proxy.restore();
      const after = proxy.injected();
      const faults = { status: after.status - before.status, reset: after.reset - before.reset };
      console.log(`      kennel train through faults: exit ${code} in ${seconds.toFixed(1)} s, ${faults.status} error statuses and ${faults.reset} resets injected`);
      expect(code, stderr.text()).to.equal(0);
      expect(faults.status).to.be.at.least(2);
      expect(faults.reset).to.be.at.least(1);
      const outcome: unknown = JSON.parse(await readFile(term, 'utf8'));
      expect(Value.Check(WorkerOutcome, outcome)).to.equal(true);
      expect(outcome as WorkerSuccess).to.include({ outcome: 'Succeeded', artifactUri: out });
      // What was written is whole: the artifact loads and its sha256 checks out.
      const loaded = await loadArtifact(out, storage);
      expect(loaded.metadata.sha256).to.match(/^[0-9a-f]{64}$/);
      loaded.model.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { loadArtifact, saveArtifact, ArtifactError } from '../../../src/ml/artifact.js';
import { StorageError, type Storage } from '../../../src/shared/storage/index.js';
import { startFaultyBucket, type FaultyBucket } from './faulty-bucket.js';
import type { FlakyProxy } from './flaky-proxy.js';

const BUCKET = 'kennel-test';

describe('gs:// storage against fake-gcs-server', function () {
  this.timeout(60_000);
  let bucket: FaultyBucket;
  let proxy: FlakyProxy;
  let storage: Storage;

  before(async () => {
    bucket = await startFaultyBucket(BUCKET);
    proxy = bucket.proxy;
    storage = bucket.storage({ retryDelayMultiplier: 1.1, maxRetryDelay: 1, maxRetries: 3 });
  });
  after(() => bucket?.close());

  it('writes, reads, stats, lists and checks existence', async () => {
    await storage.write(`gs://${BUCKET}/data/cat/a.jpg`, Buffer.from([1, 2, 3]), { contentType: 'image/jpeg' });
    await storage.write(`gs://${BUCKET}/data/dog/b.jpg`, 'hello');
    await storage.write(`gs://${BUCKET}/database/other.txt`, 'not under data/');
    expect([...(await storage.read(`gs://${BUCKET}/data/cat/a.jpg`))]).to.deep.equal([1, 2, 3]);
    expect(await storage.stat(`gs://${BUCKET}/data/cat/a.jpg`)).to.include({ size: 3, contentType: 'image/jpeg' });
    expect(await storage.exists(`gs://${BUCKET}/data/dog/b.jpg`)).to.equal(true);
    expect(await storage.exists(`gs://${BUCKET}/data/dog/zzz.jpg`)).to.equal(false);
    const listed = await storage.list(`gs://${BUCKET}/data`);
    expect(listed).to.deep.equal([
      { uri: `gs://${BUCKET}/data/cat/a.jpg`, name: 'cat/a.jpg', size: 3 },
      { uri: `gs://${BUCKET}/data/dog/b.jpg`, name: 'dog/b.jpg', size: 5 },
    ]);
    expect(await storage.list(`gs://${BUCKET}/absent`)).to.deep.equal([]);
    const chunks: Buffer[] = [];
    for await (const c of storage.readStream(`gs://${BUCKET}/data/dog/b.jpg`)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).to.equal('hello');
  });

  it('ifAbsent creates once: a second create-only write fails with AlreadyExists and leaves the first', async () => {
    const uri = `gs://${BUCKET}/keys/create-once`;
    await storage.write(uri, 'first', { ifAbsent: true });
    const err = await storage.write(uri, 'second', { ifAbsent: true }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StorageError).with.property('reason', 'AlreadyExists');
    expect((await storage.read(uri)).toString()).to.equal('first');
    await storage.write(uri, 'replaced');
    expect((await storage.read(uri)).toString()).to.equal('replaced');
  });

  it('maps a missing object and a missing bucket to NotFound', async () => {
    const err = await storage.read(`gs://${BUCKET}/nope.bin`).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StorageError).with.property('reason', 'NotFound');
    const bucketErr = await storage.list('gs://no-such-bucket/data').catch((e: unknown) => e);
    expect(bucketErr).to.be.instanceOf(StorageError).with.property('reason', 'NotFound');
    expect((bucketErr as Error).message).to.match(/bucket not found: gs:\/\/no-such-bucket/);
  });

  it('retries 503 and 429 with backoff and then succeeds', async () => {
    await storage.write(`gs://${BUCKET}/retry.txt`, 'ok');
    const before = proxy.requests();
    proxy.failNext(2, 503);
    expect((await storage.read(`gs://${BUCKET}/retry.txt`)).toString()).to.equal('ok');
    expect(proxy.requests() - before).to.equal(3);
    proxy.failNext(2, 429);
    await storage.write(`gs://${BUCKET}/retry2.txt`, 'ok too');
    expect((await storage.read(`gs://${BUCKET}/retry2.txt`)).toString()).to.equal('ok too');
  });

  it('gives up after the retry budget with Unavailable, and does not retry 403', async () => {
    proxy.failNext(10, 500);
    const err = await storage.read(`gs://${BUCKET}/retry.txt`).catch((e: unknown) => e);
    proxy.failNext(0, 500);
    expect(err).to.be.instanceOf(StorageError).with.property('reason', 'Unavailable');
    const before = proxy.requests();
    proxy.failNext(1, 403);
    const denied = await storage.read(`gs://${BUCKET}/retry.txt`).catch((e: unknown) => e);
    expect(denied).to.be.instanceOf(StorageError).with.property('reason', 'AccessDenied');
    expect((denied as Error).message).to.match(/access denied .*HTTP 403/);
    expect(proxy.requests() - before).to.equal(1);
  });

  it('saves and loads a model artifact, verifying its sha256', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax' })] });
    const uri = `gs://${BUCKET}/models/m/v1`;
    const meta = await saveArtifact(uri, model, {
      classes: ['a', 'b'],
      inputShape: [2, 2, 3],
      preprocessing: { resize: 'cover', size: 2, scale: 1 / 255 },
      dataset: { uri: 'gs://x/y', digest: 'd' },
      hyperparameters: {},
      architecture: 'dense',
      backend: 'cpu',
      codeVersion: 'test',
      createdAt: new Date().toISOString(),
    }, storage);
    const loaded = await loadArtifact(uri, storage);
    expect(loaded.metadata.sha256).to.equal(meta.sha256);
    const x = tf.ones([1, 4]);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor];
    expect(Array.from(await b.data())).to.deep.equal(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    loaded.model.dispose();

    await storage.write(`${uri}/weights.bin`, Buffer.alloc(meta.weightsBytes, 0));
    const err = await loadArtifact(uri, storage).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ArtifactError).with.property('reason', 'digest-mismatch');
    model.dispose();
  });
});

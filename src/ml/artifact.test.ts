import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createFileStorage, StorageError } from '../shared/storage/index.js';
import { ArtifactError, loadArtifact, saveArtifact, sha256Hex } from './artifact.js';
import type { ModelMetadataInput } from './metadata.js';

function tinyModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

const META: ModelMetadataInput = {
  classes: ['cat', 'dog'],
  inputShape: [8, 8, 3],
  preprocessing: { resize: 'cover', size: 8, scale: 1 / 255 },
  dataset: { uri: 'file:///data', digest: 'a'.repeat(64) },
  hyperparameters: { epochs: 1, batchSize: 4, learningRate: 0.01, augmentation: true },
  architecture: 'tiny',
  backend: 'cpu',
  codeVersion: '0.0.0-test',
  createdAt: new Date(0).toISOString(),
};

describe('model artifact', () => {
  let dir: string;
  before(async () => {
    await tf.setBackend('cpu');
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-artifact-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips: save → load gives identical predictions and the recorded metadata', async () => {
    const storage = createFileStorage();
    const model = tinyModel();
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 7);
    await model.fit(x, tf.oneHot(tf.tensor1d([0, 1, 0], 'int32'), 2), { epochs: 1, verbose: 0 });
    const uri = `${pathToFileURL(dir).href}/v1`;
    const written = await saveArtifact(uri, model, META, storage);
    const weights = await readFile(path.join(dir, 'v1', 'weights.bin'));
    expect(written.sha256).to.equal(sha256Hex(weights));
    expect(written.weightsBytes).to.equal(weights.length);
    expect((await storage.list(uri)).map((e) => e.name)).to.deep.equal(['metadata.json', 'model.json', 'weights.bin']);

    const loaded = await loadArtifact(uri, storage);
    expect(loaded.metadata).to.deep.equal(written);
    const before = model.predict(x) as tf.Tensor;
    const after = loaded.model.predict(x) as tf.Tensor;
    expect(Array.from(await after.data())).to.deep.equal(Array.from(await before.data()));
    tf.dispose([x, before, after]);
    model.dispose();
    loaded.model.dispose();
  });

  it('refuses weights whose sha256 does not match metadata.json', async () => {
    const storage = createFileStorage();
    const model = tinyModel();
    await saveArtifact(dir, model, META, storage);
    model.dispose();
    const file = path.join(dir, 'weights.bin');
    const bytes = await readFile(file);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const err = await loadArtifact(dir, storage).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ArtifactError);
    expect(err).to.have.property('reason', 'digest-mismatch');
    expect((err as Error).message).to.match(/sha256 [0-9a-f]{64}, but metadata.json records/);
  });

  it('reports a missing artifact as NotFound and bad metadata as invalid-metadata', async () => {
    const storage = createFileStorage();
    const missing = await loadArtifact(path.join(dir, 'nothing'), storage).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(StorageError).with.property('reason', 'NotFound');
    await writeFile(path.join(dir, 'metadata.json'), JSON.stringify({ classes: ['only-one'] }));
    const invalid = await loadArtifact(dir, storage).catch((e: unknown) => e);
    expect(invalid).to.be.instanceOf(ArtifactError).with.property('reason', 'invalid-metadata');
    expect((invalid as Error).message).to.match(/invalid .*metadata.json: /);
  });

  it('rejects metadata that does not fit the schema at save time', async () => {
    const model = tinyModel();
    const err = await saveArtifact(dir, model, { ...META, classes: ['one'] }, createFileStorage()).catch((e: unknown) => e);
    model.dispose();
    expect((err as Error).message).to.match(/\/classes/);
  });
});

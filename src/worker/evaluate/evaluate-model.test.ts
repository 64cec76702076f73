import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createFileStorage } from '../../shared/storage/index.js';
import { saveArtifact } from '../../ml/artifact.js';
import { evaluateArtifact, predictProbabilities } from './evaluate-model.js';

const SIZE = 4;

function model(): tf.LayersModel {
  // Output is a fixed function of mean brightness: bright → class 0, dark → class 1.
  const m = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [SIZE, SIZE, 3] }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
  m.setWeights([tf.tensor2d([[10, -10], [10, -10], [10, -10]]), tf.tensor1d([-15, 15])]);
  return m;
}

function images(values: number[]): { pixels: Uint8Array; labels: Int32Array; count: number; imageSize: number } {
  const frame = SIZE * SIZE * 3;
  const pixels = new Uint8Array(values.length * frame);
  values.forEach((v, i) => pixels.fill(v, i * frame, (i + 1) * frame));
  return { pixels, labels: Int32Array.from(values.map((v) => (v > 127 ? 0 : 1))), count: values.length, imageSize: SIZE };
}

describe('evaluateArtifact', () => {
  let dir: string;
  before(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-eval-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('predicts in batches with the same result as one batch, without leaking tensors', async () => {
    const m = model();
    const data = images([250, 10, 200, 30, 240]);
    const before = tf.memory().numTensors;
    const one = await predictProbabilities(m, data, 64);
    const batched = await predictProbabilities(m, data, 2);
    expect(Array.from(batched)).to.deep.equal(Array.from(one));
    expect(tf.memory().numTensors).to.equal(before);
    expect(one[0]).to.be.greaterThan(0.9);
    expect(one[3]).to.be.greaterThan(0.9);
    m.dispose();
  });

  it('reloads the saved artifact, evaluates it and disposes it', async () => {
    const m = model();
    const storage = createFileStorage();
    await saveArtifact(dir, m, {
      classes: ['bright', 'dark'], inputShape: [SIZE, SIZE, 3], preprocessing: { resize: 'cover', size: SIZE, scale: 1 / 255 },
      dataset: { uri: '/d', digest: 'x' }, hyperparameters: {}, architecture: 'test', backend: 'cpu', codeVersion: 't', createdAt: new Date().toISOString(),
    }, storage);
    m.dispose();
    const before = tf.memory().numTensors;
    const { metrics, metadata } = await evaluateArtifact({ modelUri: dir, storage, data: images([250, 10, 200, 30, 100]) });
    expect(tf.memory().numTensors).to.equal(before);
    expect(metadata.classes).to.deep.equal(['bright', 'dark']);
    expect(metrics.testImages).to.equal(5);
    expect(metrics.accuracy).to.equal(1);
    expect(metrics.confusionMatrix).to.deep.equal([[2, 0], [0, 3]]);
    const wrongSize = await evaluateArtifact({ modelUri: dir, storage, data: { ...images([1]), imageSize: 8, pixels: new Uint8Array(192) } }).catch((e: unknown) => e);
    expect((wrongSize as Error).message).to.match(/8px but the model expects 4px/);
  });
});

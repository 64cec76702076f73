import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { stripes } from '../../../test/fixtures/stripes.js';
import { selectBackend } from '../backend/select.js';
import { compileInference } from '../inference-forward.js';
import { memoryFeatureCache } from './features.js';
import { transferFit } from './transfer-fit.js';
import type { FitOptions } from '../fit/types.js';

const SIZE = 64;

function options(over: Partial<FitOptions> = {}): FitOptions {
  const train = stripes(48, SIZE, 1);
  const validation = stripes(16, SIZE, 2);
  const keys = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  return {
    spec: { architecture: 'mobilenet-v2', imageSize: SIZE, numClasses: 2, seed: 3 },
    train: { ...train, keys: keys(train.count, 'train') },
    validation: { ...validation, keys: keys(validation.count, 'val') },
    epochs: 1,
    batchSize: 16,
    learningRate: 3e-4,
    augmentation: { horizontalFlip: true, randomCrop: true },
    earlyStopping: { patience: 2 },
    seed: 5,
    workers: 0,
    backend: 'wasm',
    ...over,
  };
}

describe('transferFit: the pretrained recipe on a real MobileNetV2 (from the nsfwjs package)', function () {
  this.timeout(300_000);
  before(async () => {
    await selectBackend({ preference: 'wasm' });
  });

  it('trains the head, fine-tunes, calibrates, and returns one model that classifies the images it learnt', async () => {
    const stages: string[] = [];
    const phases = new Set<string>();
    const o = options({ onStage: (m) => stages.push(m), onEpoch: (l) => phases.add(l.phase ?? 'none') });
    const before = tf.memory().numTensors;
    const result = await transferFit(o);
    try {
      // Progress and history are the fine-tuning epochs; the head phase is its own history.
      expect([...phases]).to.deep.equal(['fine-tune']);
      expect(result.history.map((h) => [h.epoch, h.epochs, h.phase])).to.deep.equal([[1, 1, 'fine-tune']]);
      expect(result.pretrained?.headHistory.length).to.be.above(0);
      expect(result.pretrained?.headHistory.every((h) => h.phase === 'head')).to.equal(true);
      expect(result.bestEpoch).to.be.within(0, result.history.length);
      expect(result.pretrained?.backbone).to.deep.include({ package: 'nsfwjs', license: 'MIT', model: 'mobilenet_v2', cut: 'out_relu', boundary: 'block_12_add' });
      expect(result.pretrained?.backbone.trainableBlocks).to.include.members(['block_13', 'block_16', 'Conv_1']);
      expect(result.pretrained?.temperature).to.be.above(0);
      expect(stages.some((s) => s.startsWith('computing mobilenet-v2 features'))).to.equal(true);
      expect(stages.some((s) => s.startsWith('head trained: validation accuracy'))).to.equal(true);
      // One model: [N, S, S, 3] → probabilities; stripes are easy for a pretrained backbone.
      expect(result.model.inputs[0]?.shape).to.deep.equal([null, SIZE, SIZE, 3]);
      const run = compileInference(result.model);
      const { probs, predicted } = tf.tidy(() => {
        const x = tf.div(tf.tensor4d(o.train.pixels, [o.train.count, SIZE, SIZE, 3], 'float32'), 255);
        const p = run(x);
        return { probs: p.arraySync() as number[][], predicted: Array.from(p.argMax(1).dataSync()) };
      });
      for (const row of probs) expect(row.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-4);
      const accuracy = predicted.filter((p, i) => p === o.train.labels[i]).length / predicted.length;
      expect(accuracy).to.be.above(0.9);
    } finally {
      result.model.dispose();
    }
    // Nothing left behind but the returned model's weights (disposed above).
    expect(tf.memory().numTensors).to.be.at.most(before);
  });

  it('computes each image\'s features once: a second run with the same cache extracts nothing new', async () => {
    const cache = memoryFeatureCache();
    let extracted = 0;
    const first = await transferFit(options({ onProgress: () => extracted++ }), { cache, headEpochs: 2 });
    first.model.dispose();
    const afterFirst = cache.size;
    expect(afterFirst).to.be.above(48 * 2 + 16 - 1); // two views of the training images, one of validation (+ the shape)
    extracted = 0;
    const second = await transferFit(options({ onProgress: () => extracted++ }), { cache, headEpochs: 2 });
    second.model.dispose();
    expect(extracted, 'progress reports of extraction in the second run').to.equal(0);
    expect(cache.size).to.equal(afterFirst);
  });

  it('fine-tunes data-parallel in two worker threads', async () => {
    const result = await transferFit(options({ workers: 2 }), { headEpochs: 3 });
    try {
      expect(result.replicas).to.equal(2);
      expect(result.history.filter((h) => h.phase === 'fine-tune')).to.have.length(1);
    } finally {
      result.model.dispose();
    }
  });
});

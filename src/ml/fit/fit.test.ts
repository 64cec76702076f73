import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { imagesToTensor } from '../preprocess.js';
import { fit } from './fit.js';
import { stripes } from '../../../test/fixtures/stripes.js';
import type { EpochLog } from './types.js';

describe('fit', function () {
  this.timeout(180000);
  const size = 32;
  const train = stripes(96, size, 1);
  const validation = stripes(32, size, 2);

  for (const workers of [0, 2]) {
    it(`trains 2 epochs on generated stripes with ${workers === 0 ? 'one in-thread replica' : `${workers} worker-thread replicas`}: the loss falls and the model predicts`, async () => {
      const logs: EpochLog[] = [];
      let batches = 0;
      const result = await fit({
        spec: { architecture: 'compact-cnn', imageSize: size, numClasses: 2, seed: 3 },
        train,
        validation,
        epochs: 2,
        batchSize: 16,
        learningRate: 0.005,
        augmentation: { horizontalFlip: true, randomCrop: true, brightness: 0.1 },
        earlyStopping: { patience: 5 },
        seed: 11,
        workers,
        onEpoch: (l) => logs.push(l),
        onBatch: () => batches++,
      });
      expect(result.history).to.have.length(2);
      expect(logs).to.deep.equal(result.history);
      expect(batches).to.equal(12);
      expect(result.replicas).to.equal(workers === 0 ? 1 : workers);
      expect(result.backend).to.equal('wasm');
      const [first, second] = result.history as [EpochLog, EpochLog];
      expect(second.loss, 'training loss falls').to.be.below(first.loss);
      for (const l of result.history) {
        expect(l.imagesPerSecond).to.be.above(0);
        expect(Number.isFinite(l.valLoss), 'validation loss is finite').to.equal(true);
      }
      expect(result.bestEpoch).to.be.oneOf([1, 2]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const probs = tf.tidy(() => (result.model.predict(imagesToTensor(validation.pixels, validation.count, size)) as tf.Tensor).arraySync() as number[][]);
        expect(probs).to.have.length(validation.count);
        for (const p of probs) expect((p[0] as number) + (p[1] as number)).to.be.closeTo(1, 1e-4);
      }
      expect(tf.memory().numTensors, 'no tensors leak across predictions').to.equal(before);
      result.model.dispose();
    });
  }

  it('rejects mismatched data with a clear error', async () => {
    let caught: unknown;
    try {
      await fit({
        spec: { architecture: 'compact-cnn', imageSize: 64, numClasses: 2 },
        train,
        validation,
        epochs: 1,
        batchSize: 8,
        learningRate: 0.001,
        augmentation: { horizontalFlip: false },
        earlyStopping: { patience: 1 },
        seed: 1,
        workers: 0,
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(RangeError);
    expect((caught as Error).message).to.match(/imageSize 32 differs from the model's 64/);
  });
});

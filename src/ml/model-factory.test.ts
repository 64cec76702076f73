import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { SCRATCH_ARCHITECTURES, createModel } from './model-factory.js';

describe('createModel', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('builds SimpleCNN exactly: 4 × (conv3×3 + BN + ReLU + maxpool 2×2) of 32/64/128/256, GAP, dense 128 ReLU, dropout 0.5, softmax', () => {
    const model = createModel({ architecture: 'simple-cnn', imageSize: 64, numClasses: 2 });
    const kinds = model.layers.map((l) => l.getClassName());
    expect(kinds).to.deep.equal([
      ...Array.from({ length: 4 }, () => ['Conv2D', 'BatchNormalization', 'ReLU', 'MaxPooling2D']).flat(),
      'GlobalAveragePooling2D',
      'Dense',
      'Dropout',
      'Dense',
    ]);
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getConfig());
    expect(convs.map((c) => c.filters)).to.deep.equal([32, 64, 128, 256]);
    for (const c of convs) expect(c.kernelSize).to.deep.equal([3, 3]);
    const pools = model.layers.filter((l) => l.getClassName() === 'MaxPooling2D').map((l) => l.getConfig());
    for (const p of pools) expect(p.poolSize).to.deep.equal([2, 2]);
    const dense = model.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.getConfig());
    expect(dense.map((d) => [d.units, d.activation])).to.deep.equal([
      [128, 'relu'],
      [2, 'softmax'],
    ]);
    expect(model.layers.find((l) => l.getClassName() === 'Dropout')?.getConfig().rate).to.equal(0.5);
    expect(model.outputs[0]?.shape).to.deep.equal([null, 2]);
    model.dispose();
  });

  for (const architecture of SCRATCH_ARCHITECTURES) {
    it(`${architecture}: [N, S, S, 3] in, softmax over the classes out; same seed, same weights`, () => {
      const a = createModel({ architecture, imageSize: 32, numClasses: 3, seed: 7 });
      const b = createModel({ architecture, imageSize: 32, numClasses: 3, seed: 7 });
      const c = createModel({ architecture, imageSize: 32, numClasses: 3, seed: 8 });
      const probs = tf.tidy(() => (a.predict(tf.zeros([2, 32, 32, 3])) as tf.Tensor).arraySync() as number[][]);
      expect(probs).to.have.length(2);
      for (const p of probs) expect(p.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-5);
      const wa = a.getWeights()[0]?.dataSync();
      expect(Array.from(wa ?? [])).to.deep.equal(Array.from(b.getWeights()[0]?.dataSync() ?? []));
      expect(Array.from(wa ?? [])).to.not.deep.equal(Array.from(c.getWeights()[0]?.dataSync() ?? []));
      [a, b, c].forEach((m) => m.dispose());
    });
  }

  it('rejects bad specs with clear errors', () => {
    expect(() => createModel({ architecture: 'resnet-9000' as never, imageSize: 64, numClasses: 2 })).to.throw(/not "resnet-9000"/);
    expect(() => createModel({ architecture: 'mobilenet-v2', imageSize: 64, numClasses: 2 })).to.throw(/pretrained architectures are built by src\/ml\/transfer/);
    expect(() => createModel({ architecture: 'simple-cnn', imageSize: 8, numClasses: 2 })).to.throw(/imageSize must be an integer of at least 16/);
    expect(() => createModel({ architecture: 'simple-cnn', imageSize: 64, numClasses: 1 })).to.throw(/numClasses/);
    expect(() => createModel({ architecture: 'simple-cnn', imageSize: 64, numClasses: 2, dropout: 1 })).to.throw(/dropout/);
  });
});

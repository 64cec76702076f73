import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { Replica } from './replica.js';
import { stripes } from '../../../test/fixtures/stripes.js';

describe('Replica (one model copy on the wasm backend)', function () {
  this.timeout(120000);

  it('does not leak tensors across training steps, updates and evaluations', async () => {
    const data = stripes(8, 32, 5);
    const replica = await Replica.create({ spec: { architecture: 'simple-cnn', imageSize: 32, numClasses: 2, seed: 1 }, learningRate: 1e-3, backend: 'wasm' });
    expect(replica.backend).to.equal('wasm');
    const cycle = (seed: number): void => {
      const r = replica.step(data.pixels, data.labels, data.count, seed);
      replica.apply(r.grads);
      replica.evaluate(data.pixels, data.labels, data.count);
    };
    cycle(1); // the optimiser creates its slots on the first update
    const before = tf.memory().numTensors;
    for (let i = 2; i < 6; i++) cycle(i);
    expect(tf.memory().numTensors).to.equal(before);
    replica.dispose();
  });

  it('computes the same loss and gradients as TF.js layers on the reference CPU backend', async () => {
    const data = stripes(6, 16, 9);
    const spec = { architecture: 'simple-cnn' as const, imageSize: 16, numClasses: 2, dropout: 0, seed: 4 };
    const ours = await Replica.create({ spec, learningRate: 1e-3, backend: 'wasm' });
    const r = ours.step(data.pixels, data.labels, data.count, 1);
    const weights = ours.getWeights();
    ours.dispose();
    const reference = await Replica.create({ spec, learningRate: 1e-3, backend: 'cpu' });
    reference.setWeights(weights);
    let expectedLoss = 0;
    let expected: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(data.pixels, (v) => v / 255), [data.count, 16, 16, 3]);
      const y = tf.oneHot(tf.tensor1d(Array.from(data.labels), 'int32'), 2);
      const vars = reference.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, tf.log(reference.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
      expectedLoss = value.dataSync()[0] as number;
      const parts = vars.map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array);
      expected = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        expected.set(p, o);
        o += p.length;
      }
    });
    reference.dispose();
    await tf.setBackend('wasm');
    expect(r.loss).to.be.closeTo(expectedLoss, 1e-4);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i] as number));
      worst = Math.max(worst, Math.abs((expected[i] as number) - (r.grads[i] as number)));
    }
    expect(worst / scale).to.be.below(1e-3);
  });
});

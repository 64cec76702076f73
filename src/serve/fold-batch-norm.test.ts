import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../ml/model-factory.js';
import { foldBatchNorm } from './fold-batch-norm.js';

describe('foldBatchNorm', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('turns conv → batch norm → relu into one fused conv with the same outputs', async () => {
    const model = createModel({ architecture: 'simple-cnn', imageSize: 32, numClasses: 3, seed: 5 });
    // Non-trivial batch-norm statistics, as after training.
    for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const ws = layer.getWeights();
      layer.setWeights(ws.map((w, i) => (i === 3 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', 11 + i) : tf.randomNormal(w.shape, 0, 0.5, 'float32', 7 + i))));
    }
    const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 3);
    const before = model.predict(x) as tf.Tensor;
    // A first fold creates TF.js's one-time constants; measure leaks on the second.
    (await foldBatchNorm(model)).model.dispose();
    const tensorsBefore = tf.memory().numTensors;
    const { model: fast, folded } = await foldBatchNorm(model);
    expect(folded).to.equal(4);
    expect(fast.layers.map((l) => l.getClassName())).not.to.include('BatchNormalization').and.not.to.include('ReLU').and.not.to.include('Dropout');
    const after = fast.predict(x) as tf.Tensor;
    const diff = tf.tidy(() => tf.max(tf.abs(before.sub(after))).dataSync()[0] as number);
    expect(diff).to.be.lessThan(1e-4);
    tf.dispose(after);
    fast.dispose();
    // Disposing the folded model frees everything folding created: no leaked intermediates.
    expect(tf.memory().numTensors).to.equal(tensorsBefore);
    tf.dispose([x, before]);
    model.dispose();
  });

  it('leaves a model without conv → batch norm blocks unchanged', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax' })] });
    const result = await foldBatchNorm(model);
    expect(result.folded).to.equal(0);
    expect(result.model).to.equal(model);
    model.dispose();
  });
});

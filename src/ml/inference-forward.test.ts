import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend/select.js';
import { compileInference, compileInferenceTo } from './inference-forward.js';
import { createModel } from './model-factory.js';

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).to.equal(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  return worst;
}

/** A functional model with what MobileNet-style networks use: ReLU6 convs, a depthwise conv, a residual add, pooling and a softmax head. */
function functionalModel(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu6', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }), useBias: true }).apply(a) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: 'linear', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(b) as tf.SymbolicTensor;
  const d = tf.layers.add().apply([b, c]) as tf.SymbolicTensor;
  const e = tf.layers.reLU({ maxValue: 6 }).apply(d) as tf.SymbolicTensor;
  const f = tf.layers.globalAveragePooling2d({}).apply(e) as tf.SymbolicTensor;
  const g = tf.layers.dropout({ rate: 0.5 }).apply(f) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(g) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('compileInference', function () {
  this.timeout(60000);
  before(async () => {
    await selectBackend({ preference: 'wasm' });
  });

  it('computes what model.apply computes for a functional MobileNet-style model, and leaks no tensor', () => {
    const model = functionalModel();
    const run = compileInference(model);
    const x = tf.randomUniform([4, 16, 16, 3], 0, 3, 'float32', 7);
    tf.tidy(() => {
      expect(maxDiff(run(x), model.apply(x, { training: false }) as tf.Tensor)).to.be.below(1e-5);
    });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        run(x);
      });
    }
    expect(tf.memory().numTensors).to.equal(before);
    x.dispose();
    model.dispose();
  });

  it('computes what model.apply computes for the Sequential from-scratch CNNs', () => {
    const model = createModel({ architecture: 'compact-cnn', imageSize: 32, numClasses: 2, seed: 3 });
    const run = compileInference(model);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 8);
    tf.tidy(() => {
      expect(maxDiff(run(x), model.apply(x, { training: false }) as tf.Tensor)).to.be.below(1e-5);
    });
    x.dispose();
    model.dispose();
  });

  it('returns intermediate outputs by layer name, and refuses an unknown one', () => {
    const model = functionalModel();
    const names = model.layers.map((l) => l.name);
    const depthwise = names.find((n) => n.startsWith('depthwise')) as string;
    const run = compileInferenceTo(model, [depthwise, model.layers.at(-1)?.name as string]);
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 9);
    tf.tidy(() => {
      const [maps, probs] = run(x);
      expect(maps?.shape).to.deep.equal([1, 8, 8, 8]);
      expect(probs?.shape).to.deep.equal([1, 3]);
    });
    expect(() => compileInferenceTo(model, ['nope'])).to.throw(/no layer "nope"/);
    x.dispose();
    model.dispose();
  });
});

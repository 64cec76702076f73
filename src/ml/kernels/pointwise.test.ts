import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../backend/select.js';
import { seededRandom } from '../../shared/random.js';
import { KernelModule } from './kernel-module.js';
import { pointwiseApplies, pointwiseInPlace } from './pointwise.js';
import type { ConvGeometry } from './conv.js';

function geometry(batch: number, h: number, w: number, inC: number, outC: number): ConvGeometry {
  return { batchSize: batch, inHeight: h, inWidth: w, inChannels: inC, outHeight: h, outWidth: w, outChannels: outC, filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0 };
}

describe('1×1 convolution in place on the wasm heap', function () {
  this.timeout(60000);
  let mod: KernelModule;

  before(async () => {
    const chosen = await selectBackend({ preference: 'wasm' });
    if (chosen.name !== 'wasm') throw new Error('the wasm backend must initialise for these tests');
    mod = await KernelModule.create();
  });

  it('applies only to 1×1, stride 1, unpadded convolutions with a multiple of 8 output channels', () => {
    expect(pointwiseApplies(geometry(2, 5, 5, 24, 144))).to.equal(true);
    expect(pointwiseApplies(geometry(2, 5, 5, 24, 12)), 'outC 12').to.equal(false);
    expect(pointwiseApplies({ ...geometry(1, 6, 6, 8, 8), strideHeight: 2, strideWidth: 2, outHeight: 3, outWidth: 3 }), 'stride 2').to.equal(false);
    expect(pointwiseApplies({ ...geometry(1, 6, 6, 8, 8), filterHeight: 3, filterWidth: 3, padTop: 1, padLeft: 1 }), '3×3').to.equal(false);
  });

  it('writes act(x·W + b) into the output tensor, the same after the heap has grown', () => {
    const r = seededRandom(11);
    const [batch, h, w, inC, outC] = [3, 7, 5, 300, 24]; // 105 pixels: a last tile of one row
    const x = tf.tensor4d(Float32Array.from({ length: batch * h * w * inC }, () => r() * 2 - 1), [batch, h, w, inC]);
    const filter = tf.tensor4d(Float32Array.from({ length: inC * outC }, () => r() - 0.5), [1, 1, inC, outC]);
    const bias = tf.tensor1d(Float32Array.from({ length: outC }, () => r() * 4 - 2));
    const expected = tf.tidy(() => tf.clipByValue(tf.add(tf.matMul(tf.reshape(x, [-1, inC]), tf.reshape(filter, [inC, outC])), bias), 0, 6).dataSync());
    const wasm = tf.backend() as BackendWasm;
    for (const round of ['before', 'after'] as const) {
      // A large tensor forces the heap to grow (its ArrayBuffer is then detached and replaced).
      const ballast = round === 'after' ? tf.zeros([64 * 1024 * 1024]) : undefined;
      const out = wasm.makeOutput([batch, h, w, outC], 'float32');
      const ran = pointwiseInPlace(mod, wasm, x, filter, bias, out, geometry(batch, h, w, inC, outC), 'relu6');
      expect(ran, `ran in place (${round} the heap grew)`).to.equal(true);
      const result = tf.engine().makeTensorFromTensorInfo(out);
      const got = result.dataSync();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
      expect(worst, `max abs error ${round} the heap grew`).to.be.below(1e-3);
      result.dispose();
      ballast?.dispose();
    }
    tf.dispose([x, filter, bias]);
  });
});

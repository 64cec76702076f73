import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend/select.js';
import { imagesToTensor } from './preprocess.js';

describe('imagesToTensor', () => {
  it('gives float32 [n, size, size, 3] scaled to [0, 1], HWC order kept', () => {
    const pixels = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => (i * 11) % 256);
    const t = imagesToTensor(pixels, 2, 2);
    expect(t.shape).to.deep.equal([2, 2, 2, 3]);
    expect(t.dtype).to.equal('float32');
    const values = t.dataSync();
    pixels.forEach((p, i) => expect(values[i]).to.be.closeTo(p / 255, 1e-7));
    t.dispose();
  });

  it('rejects a byte count that does not match', () => {
    expect(() => imagesToTensor(new Uint8Array(10), 1, 2)).to.throw(/expected 12 bytes/);
    expect(tf.memory().numTensors).to.be.a('number');
  });

  it('on the wasm backend writes the same values straight into a heap tensor that tidy and dispose free', async () => {
    const before = tf.getBackend();
    const chosen = await selectBackend({ preference: 'wasm' });
    try {
      expect(chosen.name, 'the wasm backend must initialise for this test').to.equal('wasm');
      const pixels = Uint8Array.from({ length: 3 * 5 * 5 * 3 }, (_, i) => (i * 37 + 5) % 256);
      const tensors = tf.memory().numTensors;
      const values = tf.tidy(() => {
        const t = imagesToTensor(pixels, 3, 5);
        expect(t.shape).to.deep.equal([3, 5, 5, 3]);
        expect(t.dtype).to.equal('float32');
        // Used by an op, as the model uses it: the heap tensor is a proper input.
        return tf.mul(t, 255).dataSync();
      });
      pixels.forEach((p, i) => expect(values[i], `value ${i}`).to.be.closeTo(p, 1e-4));
      expect(tf.memory().numTensors, 'no tensor left behind by tidy').to.equal(tensors);
      // Still right after the heap has grown (its buffer is then replaced).
      const ballast = tf.zeros([32 * 1024 * 1024]);
      const t = imagesToTensor(pixels, 3, 5);
      t.dataSync().forEach((v, i) => expect(v).to.be.closeTo((pixels[i] as number) / 255, 1e-7));
      tf.dispose([t, ballast]);
      expect(tf.memory().numTensors).to.equal(tensors);
    } finally {
      if (before) await tf.setBackend(before);
    }
  });
});

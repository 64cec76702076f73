import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
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
});

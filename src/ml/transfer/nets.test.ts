import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { poolMaps, shiftMap, viewSource } from './nets.js';

describe('transfer nets: feature-space augmentation and pooling', () => {
  it('shiftMap translates a map by whole cells, repeating the edge', () => {
    // A 3×3 map, 1 channel, values 0..8 row-major; draws of 0.0 give a shift of −1 in y and x.
    const row = Float32Array.from({ length: 9 }, (_, i) => i);
    const shift = shiftMap(3, 3, 1, 1);
    const out = shift(row, () => 0);
    // out[y][x] = in[max(0, y − 1)][max(0, x − 1)]
    expect(Array.from(out)).to.deep.equal([0, 0, 1, 0, 0, 1, 3, 3, 4]);
    const same = shift(row, () => 0.5); // a draw of 0.5 → shift 0: the row itself
    expect(same).to.equal(row);
  });

  it('viewSource takes each training example from a random view, and validation from the first', () => {
    const a = Float32Array.from([1, 1, 2, 2]); // 2 examples of 2 values
    const b = Float32Array.from([-1, -1, -2, -2]);
    const source = viewSource({ views: [a, b], count: 2, rowShape: [2], labels: Int32Array.from([0, 1]) });
    const plain = source.batch(Int32Array.from([1, 0]), undefined);
    expect(Array.from(plain.dataSync())).to.deep.equal([2, 2, 1, 1]);
    const seen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const t = source.batch(Int32Array.from([0]), { seed });
      seen.add(t.dataSync()[0] as number);
      t.dispose();
    }
    expect([...seen].sort()).to.deep.equal([-1, 1]);
    plain.dispose();
  });

  it('poolMaps is the global average over height and width', () => {
    const data = Float32Array.from({ length: 2 * 2 * 3 * 4 }, (_, i) => Math.sin(i));
    const pooled = poolMaps({ count: 2, shape: [2, 3, 4], data });
    const expected = tf.tidy(() => tf.mean(tf.tensor4d(data, [2, 2, 3, 4]), [1, 2]).dataSync());
    expect(pooled.length).to.equal(8);
    pooled.forEach((v, i) => expect(v).to.be.closeTo(expected[i] as number, 1e-6));
  });
});

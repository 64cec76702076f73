import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { DEFAULT_SPLIT, splitOf, splitPosition, validateSplit } from './split.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('content-hash split', () => {
  it('maps a hash to a fixed position from its leading 48 bits', () => {
    expect(splitPosition('0'.repeat(64))).to.equal(0);
    expect(splitPosition('8' + '0'.repeat(63))).to.equal(0.5);
    expect(splitPosition('f'.repeat(64))).to.be.lessThan(1);
    expect(splitOf('0'.repeat(64), DEFAULT_SPLIT)).to.equal('train');
    expect(splitOf('e' + '0'.repeat(63), DEFAULT_SPLIT)).to.equal('validation'); // 0.875
    expect(splitOf('f' + '0'.repeat(63), DEFAULT_SPLIT)).to.equal('test'); // 0.9375
  });

  it('is stable and close to the fractions over many images', () => {
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 10_000; i++) counts[splitOf(sha(`img-${i}`), DEFAULT_SPLIT)]++;
    expect(counts.train / 10_000).to.be.closeTo(0.8, 0.02);
    expect(counts.validation / 10_000).to.be.closeTo(0.1, 0.01);
    expect(counts.test / 10_000).to.be.closeTo(0.1, 0.01);
    expect(splitOf(sha('img-42'), DEFAULT_SPLIT)).to.equal(splitOf(sha('img-42'), DEFAULT_SPLIT));
  });

  it('reshuffles with a different seed', () => {
    const hashes = Array.from({ length: 200 }, (_, i) => sha(`x${i}`));
    const a = hashes.map((h) => splitOf(h, DEFAULT_SPLIT, 0));
    const b = hashes.map((h) => splitOf(h, DEFAULT_SPLIT, 7));
    expect(a).to.not.deep.equal(b);
    expect(hashes.map((h) => splitOf(h, DEFAULT_SPLIT, 7))).to.deep.equal(b);
  });

  it('validates fractions', () => {
    expect(() => validateSplit({ train: 0.8, validation: 0.1, test: 0.2 })).to.throw(RangeError, /sum to 1/);
    expect(() => validateSplit({ train: 1, validation: 0, test: 0 })).to.throw(RangeError, /train and test/);
    expect(() => validateSplit({ train: -0.1, validation: 0.6, test: 0.5 })).to.throw(RangeError, /in \[0, 1\]/);
    expect(validateSplit({ train: 0.7, validation: 0.15, test: 0.15 })).to.deep.equal({ train: 0.7, validation: 0.15, test: 0.15 });
  });
});

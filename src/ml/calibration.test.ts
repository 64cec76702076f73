import { expect } from 'chai';
import { seededRandom } from '../shared/random.js';
import { calibrationOf, fitTemperature, temperatureNll } from './calibration.js';

/** Logits of an over-confident classifier: right 80 % of the time, but its logit gap says ~99 %. */
function overconfident(n: number, seed: number): { logits: Float32Array; labels: Int32Array } {
  const r = seededRandom(seed);
  const logits = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = r() < 0.5 ? 0 : 1;
    const right = r() < 0.8;
    const predicted = right ? labels[i] : 1 - (labels[i] as number);
    logits[i * 2 + (predicted as number)] = 5 + r();
  }
  return { logits, labels };
}

describe('temperature scaling', () => {
  it('softens an over-confident classifier (T > 1) and lowers its NLL and calibration error', () => {
    const { logits, labels } = overconfident(2000, 1);
    const t = fitTemperature(logits, labels, 2);
    expect(t).to.be.above(2);
    expect(temperatureNll(logits, labels, 2, t)).to.be.below(temperatureNll(logits, labels, 2, 1));
    const conf = (temp: number): { confidence: number[]; correct: boolean[] } => {
      const confidence: number[] = [];
      const correct: boolean[] = [];
      for (let i = 0; i < labels.length; i++) {
        const a = (logits[i * 2] as number) / temp;
        const b = (logits[i * 2 + 1] as number) / temp;
        const p1 = 1 / (1 + Math.exp(a - b));
        confidence.push(Math.max(p1, 1 - p1));
        correct.push((p1 > 0.5 ? 1 : 0) === labels[i]);
      }
      return { confidence, correct };
    };
    const before = calibrationOf(conf(1).confidence, conf(1).correct);
    const after = calibrationOf(conf(t).confidence, conf(t).correct);
    expect(before.ece).to.be.above(0.15);
    expect(after.ece).to.be.below(0.05);
  });

  it('leaves a calibrated classifier near T = 1', () => {
    const r = seededRandom(2);
    const n = 4000;
    const logits = new Float32Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const gap = r() * 6 - 3;
      logits[i * 2 + 1] = gap;
      labels[i] = r() < 1 / (1 + Math.exp(-gap)) ? 1 : 0; // labels drawn from the model's own probabilities
    }
    expect(fitTemperature(logits, labels, 2)).to.be.within(0.85, 1.15);
  });

  it('returns 1 with nothing to fit', () => {
    expect(fitTemperature(new Float32Array(0), [], 3)).to.equal(1);
  });
});

describe('calibrationOf', () => {
  it('bins by confidence and weighs each bin by its share of predictions', () => {
    const c = calibrationOf([0.95, 0.95, 0.55, 0.55], [true, false, true, true], 10);
    expect(c.bins).to.have.length(10);
    expect(c.bins[9]).to.include({ count: 2, accuracy: 0.5 });
    expect(c.bins[5]).to.include({ count: 2, accuracy: 1 });
    // (2/4)·|0.5 − 0.95| + (2/4)·|1 − 0.55| = 0.45
    expect(c.ece).to.be.closeTo(0.45, 1e-9);
  });

  it('puts a confidence of exactly 1 in the last bin', () => {
    expect(calibrationOf([1], [true], 15).bins[14]?.count).to.equal(1);
  });
});

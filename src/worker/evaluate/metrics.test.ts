import { expect } from 'chai';
import { Value } from '@sinclair/typebox/value';
import { MetricsSummary } from '../../shared/api/worker-report.js';
import { computeMetrics, confusionMatrix, histogram, perClassMetrics, rocAuc } from './metrics.js';

describe('evaluation metrics', () => {
  it('builds the confusion matrix as [actual][predicted]', () => {
    expect(confusionMatrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3)).to.deep.equal([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
  });

  it('computes per-class precision, recall and F1 (hand-worked)', () => {
    // class 0: tp 1, predicted-as-0 2 (rows 0 and 2), support 2 → p 0.5, r 0.5, f1 0.5
    // class 1: tp 2, predicted-as-1 3, support 2 → p 2/3, r 1, f1 0.8
    // class 2: tp 0, never predicted, support 1 → 0, 0, 0
    const per = perClassMetrics([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
    expect(per[0]).to.deep.equal({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(per[1]?.precision).to.be.closeTo(2 / 3, 1e-12);
    expect(per[1]?.recall).to.equal(1);
    expect(per[1]?.f1).to.be.closeTo(0.8, 1e-12);
    expect(per[2]).to.deep.equal({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('computes ROC-AUC with ties counted as one half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).to.equal(0.75);
    expect(rocAuc([0.9, 0.8, 0.1], [true, true, false])).to.equal(1);
    expect(rocAuc([0.5, 0.5], [true, false])).to.equal(0.5);
    expect(rocAuc([0.1, 0.2], [true, true])).to.equal(undefined);
  });

  it('bins confidences into 10 equal bins with 1.0 in the last', () => {
    expect(histogram([0, 0.05, 0.1, 0.55, 0.99, 1])).to.deep.equal([2, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it('summarises a binary case (hand-worked) in the MetricsSummary shape', () => {
    const classes = ['cat', 'dog'];
    const labels = [0, 0, 1, 1];
    // predictions: cat (0.9), dog (0.6, wrong), dog (0.8), cat (0.7, wrong)
    const probs = [0.9, 0.1, 0.4, 0.6, 0.2, 0.8, 0.7, 0.3];
    const m = computeMetrics(labels, probs, classes);
    expect(Value.Check(MetricsSummary, m)).to.equal(true);
    expect(m.accuracy).to.equal(0.5);
    expect(m.confusionMatrix).to.deep.equal([
      [1, 1],
      [1, 1],
    ]);
    expect(m.precision).to.equal(0.5);
    expect(m.recall).to.equal(0.5);
    expect(m.f1).to.equal(0.5);
    // P(dog) scores: cats 0.1, 0.6; dogs 0.8, 0.3 → pairs (dog>cat): 0.8>0.1, 0.8>0.6, 0.3>0.1 = 3/4.
    // P(cat) for cats 0.9, 0.4 vs dogs 0.2, 0.7: 0.9>0.2, 0.9>0.7, 0.4>0.2 = 3/4.
    expect(m.rocAuc).to.equal(0.75);
    expect(m.testImages).to.equal(4);
    expect(m.perClass.cat).to.deep.equal({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(m.confidenceHistogram).to.deep.equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(m.meanConfidence).to.be.closeTo((0.9 + 0.6 + 0.8 + 0.7) / 4, 1e-12);
  });

  it('handles a perfect classifier and rejects a shape mismatch', () => {
    const m = computeMetrics([0, 1, 2], [1, 0, 0, 0, 1, 0, 0, 0, 1], ['a', 'b', 'c']);
    expect([m.accuracy, m.precision, m.recall, m.f1, m.rocAuc]).to.deep.equal([1, 1, 1, 1, 1]);
    expect(() => computeMetrics([0, 1], [0.5, 0.5], ['a', 'b'])).to.throw(RangeError, /2×2/);
  });
});

import { expect } from 'chai';
import { evaluationView } from './evaluation-view.js';

describe('evaluationView', () => {
  const history = [{ epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5 }];

  it('takes every drawable part of a metrics.json', () => {
    const view = evaluationView(
      {
        perClass: { cat: { precision: 1, recall: 0.5, f1: 0.67, support: 2 } },
        confusionMatrix: [[1, 1], [0, 2]],
        confidenceHistogram: [0, 0, 0, 0, 0, 1, 1, 0, 1, 1],
        training: { history, bestEpoch: 1 },
        calibration: { expectedCalibrationError: 0.1, reliability: [{ from: 0, to: 0.5, count: 1, confidence: 0.4, accuracy: 1 }] },
      },
      ['cat', 'dog'],
    );
    expect(Object.keys(view).sort()).to.deep.equal(['bestEpoch', 'calibration', 'confidenceHistogram', 'confusionMatrix', 'history', 'perClass']);
  });

  it('leaves out what is missing or malformed instead of failing', () => {
    const view = evaluationView({ accuracy: 0.9, confusionMatrix: [[1, 2, 3]], confidenceHistogram: [1, 2], training: { history: 'no' }, calibration: { expectedCalibrationError: 'x' } }, ['cat', 'dog']);
    expect(view).to.deep.equal({});
    expect(evaluationView(undefined, ['cat'])).to.deep.equal({});
  });
});

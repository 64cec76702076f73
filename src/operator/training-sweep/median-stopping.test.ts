import { expect } from 'chai';
import { describePolicy, median, medianPolicy, medianStoppingDecisions, parseStopDetails, stopDetailsAnnotation, stopMessage, type TrialHistory } from './median-stopping.js';

const t = (trial: number, history: number[], running = true): TrialHistory => ({ trial, history, running });

describe('training-sweep median stopping', () => {
  const policy = { minEpochs: 2, minTrials: 2 };

  it('stops a running trial whose best so far is below the median of the others\' running averages at its epoch', () => {
    const trials = [t(0, [0.6, 0.7, 0.8]), t(1, [0.62, 0.75, 0.85], false), t(2, [0.3, 0.35, 0.4])];
    // trial 2 at epoch 3: best 0.4; others' means over epochs 1..3: 0.7 and 0.74 → median 0.72
    expect(medianStoppingDecisions(policy, trials)).to.deep.equal([{ trial: 2, epoch: 3, bestValAccuracy: 0.4, median: 0.72, trials: 2 }]);
  });

  it('compares the best so far with running averages: a late bloomer whose best beats the median is kept', () => {
    // others' means at epoch 3 are 0.5 and 0.6 → median 0.55; trial 2 started low but reached 0.56
    const trials = [t(0, [0.4, 0.5, 0.6, 0.7]), t(1, [0.5, 0.6, 0.7]), t(2, [0.2, 0.3, 0.56])];
    expect(medianStoppingDecisions(policy, trials)).to.deep.equal([]);
    // strictly below: equal to the median is kept
    expect(medianStoppingDecisions(policy, [t(0, [0.5, 0.5]), t(1, [0.5, 0.5]), t(2, [0.4, 0.5])])).to.deep.equal([]);
  });

  it('waits for minEpochs and for minTrials other trials that reached the same epoch', () => {
    const hopeless = t(2, [0.1]);
    expect(medianStoppingDecisions(policy, [t(0, [0.9, 0.9]), t(1, [0.9, 0.9]), hopeless]), 'one epoch < minEpochs').to.deep.equal([]);
    // trial 1 has only one epoch: one other trial reached epoch 2, fewer than minTrials
    expect(medianStoppingDecisions(policy, [t(0, [0.9, 0.9]), t(1, [0.9]), t(2, [0.1, 0.1])])).to.deep.equal([]);
    expect(medianStoppingDecisions({ minEpochs: 2, minTrials: 1 }, [t(0, [0.9, 0.9]), t(1, [0.9]), t(2, [0.1, 0.1])])).to.have.length(1);
  });

  it('judges only running trials; finished and stopped trials still count among the others', () => {
    const trials = [t(0, [0.9, 0.9], false), t(1, [0.8, 0.8], false), t(2, [0.1, 0.1], false), t(3, [0.2, 0.2])];
    const [d] = medianStoppingDecisions(policy, trials);
    // trial 3 against trials 0, 1, 2 (means 0.9, 0.8, 0.1 → median 0.8); trial 2 is not judged again
    expect(d).to.deep.equal({ trial: 3, epoch: 2, bestValAccuracy: 0.2, median: 0.8, trials: 3 });
    expect(medianStoppingDecisions(policy, trials)).to.have.length(1);
  });

  it('takes the median of an even count as the mean of the middle two; fills the spec\'s defaults', () => {
    expect(median([0.1, 0.9, 0.5, 0.7])).to.equal(0.6);
    expect(median([3])).to.equal(3);
    expect(() => median([])).to.throw(/no values/);
    expect(medianPolicy({ algorithm: 'Median' })).to.deep.equal({ minEpochs: 3, minTrials: 3 });
    expect(describePolicy(medianPolicy({ algorithm: 'Median', minEpochs: 2, minTrials: 4 }))).to.equal('Median (minEpochs 2, minTrials 4)');
  });

  it('writes the figures for the run\'s annotations and reads them back', () => {
    const d = { trial: 2, epoch: 3, bestValAccuracy: 0.4, median: 0.72, trials: 2 };
    expect(parseStopDetails(stopDetailsAnnotation(d))).to.deep.equal({ epoch: 3, bestValAccuracy: 0.4, median: 0.72, trials: 2 });
    expect(parseStopDetails('nope')).to.equal(undefined);
    expect(parseStopDetails('{"epoch":"3"}')).to.equal(undefined);
    expect(stopMessage('search', d)).to.equal(
      "stopped early by TrainingSweep search (median stopping): best validation accuracy 0.4 by epoch 3 is below 0.72, the median of 2 other trials' mean validation accuracy up to epoch 3",
    );
  });
});

import { expect } from 'chai';
import { exampleModelVersion, exampleTrainingRun } from '../../../test/fixtures/api-examples.js';
import { bornEligibility, servingEligible, winnerPatch } from './eligibility.js';

describe('model-version eligibility', () => {
  it('is eligible unless annotated "false"', () => {
    const mv = exampleModelVersion();
    expect(servingEligible(mv)).to.equal(true);
    mv.metadata.annotations = { 'kennel.dev/serving-eligible': 'false' };
    expect(servingEligible(mv)).to.equal(false);
    mv.metadata.annotations = winnerPatch('search', 'accuracy 0.9').metadata.annotations;
    expect(servingEligible(mv)).to.equal(true);
    expect(mv.metadata.annotations['kennel.dev/serving-eligible-reason']).to.equal('the best trial of TrainingSweep search (accuracy 0.9)');
  });

  it('is born not eligible from a sweep\'s trial, and eligible from any other run', () => {
    const run = exampleTrainingRun('search-2');
    expect(bornEligibility(run)).to.deep.equal({});
    run.metadata.labels = { 'kennel.dev/training-sweep': 'search' };
    expect(bornEligibility(run)).to.deep.include({ 'kennel.dev/serving-eligible': 'false' });
  });
});

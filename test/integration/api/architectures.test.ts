import { expect } from 'chai';
import { ARCHITECTURES } from '../../../src/ml/model-factory.js';
import { Architectures } from '../../../src/shared/api/training-run.js';

/** The TrainingRun schema repeats the worker's architecture list (src/shared may not import src/ml): keep them equal. */
describe('TrainingRun architectures', () => {
  it('are exactly the ones the worker can build', () => {
    expect([...Architectures].sort()).to.deep.equal([...ARCHITECTURES].sort());
  });
});

import { expect } from 'chai';
import { ARCHITECTURES, DEFAULT_ARCHITECTURE, imageSizeRule } from '../../../src/ml/architectures.js';
import { Architectures, DEFAULT_ARCHITECTURE as API_DEFAULT, IMAGE_SIZE_RULES } from '../../../src/shared/api/training-run.js';

/** The TrainingRun schema repeats the worker's architecture list and rules (src/shared may not import src/ml): keep them equal. */
describe('TrainingRun architectures', () => {
  it('are exactly the ones the worker can train, with the same default', () => {
    expect([...Architectures]).to.deep.equal([...ARCHITECTURES]);
    expect(API_DEFAULT).to.equal(DEFAULT_ARCHITECTURE);
  });

  it('take the image sizes the worker takes', () => {
    for (const a of ARCHITECTURES) expect(IMAGE_SIZE_RULES[a], a).to.deep.equal(imageSizeRule(a));
  });
});

import { expect } from 'chai';
import { exampleTrainingSweep } from '../../../test/fixtures/api-examples.js';
import type { TrainingSweepSpec } from '../../shared/api/training-sweep.js';
import { expandTrials, trialSpec } from './trials.js';

describe('training-sweep trials', () => {
  it('walks a grid in a fixed order, the last parameter fastest, and stops at maxTrials', () => {
    const spec = exampleTrainingSweep().spec;
    const all = expandTrials({ ...spec, maxTrials: 100 });
    expect(all.map((t) => t.parameters)).to.deep.equal([
      { imageSize: 64, learningRate: 0.001, horizontalFlip: true },
      { imageSize: 64, learningRate: 0.001, horizontalFlip: false },
      { imageSize: 64, learningRate: 0.003, horizontalFlip: true },
      { imageSize: 64, learningRate: 0.003, horizontalFlip: false },
      { imageSize: 96, learningRate: 0.001, horizontalFlip: true },
      { imageSize: 96, learningRate: 0.001, horizontalFlip: false },
      { imageSize: 96, learningRate: 0.003, horizontalFlip: true },
      { imageSize: 96, learningRate: 0.003, horizontalFlip: false },
    ]);
    expect(all.map((t) => t.trial)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(expandTrials({ ...spec, maxTrials: 3 })).to.deep.equal(all.slice(0, 3));
  });

  const random = (seed: number, maxTrials: number): TrainingSweepSpec => ({
    ...exampleTrainingSweep().spec,
    maxTrials,
    search: {
      algorithm: 'Random',
      seed,
      parameters: {
        learningRate: { min: 0.0001, max: 0.1 },
        epochs: { min: 1, max: 3 },
        brightness: { min: 0, max: 0.2 },
        architecture: { values: ['simple-cnn', 'compact-cnn'] },
      },
    },
  });

  it('draws random trials from the seed and the trial number only, within the ranges', () => {
    const a = expandTrials(random(7, 40));
    expect(expandTrials(random(7, 40))).to.deep.equal(a);
    // more trials keep the earlier ones; another seed draws others
    expect(expandTrials(random(7, 60)).slice(0, 40)).to.deep.equal(a);
    expect(expandTrials(random(8, 40))).to.not.deep.equal(a);
    for (const { parameters: p } of a) {
      expect(p.learningRate).to.be.within(0.0001, 0.1);
      expect(p.epochs).to.be.oneOf([1, 2, 3]);
      expect(p.brightness).to.be.within(0, 0.2);
      expect(p.architecture).to.be.oneOf(['simple-cnn', 'compact-cnn']);
    }
    const epochs = new Set(a.map((t) => t.parameters.epochs));
    expect(epochs.size, 'every whole number of the range is drawn').to.equal(3);
    expect(new Set(a.map((t) => t.parameters.architecture)).size).to.equal(2);
  });

  it('draws the learning rate log-uniformly: about as many draws per decade', () => {
    const draws = expandTrials(random(1, 100)).map((t) => t.parameters.learningRate ?? 0);
    const perDecade = [0.001, 0.01, 0.1].map((top) => draws.filter((x) => x <= top && x > top / 10).length);
    // uniform over [1e-4, 1e-1] would put ~90 of 100 in the top decade; log-uniform ~33 in each
    for (const n of perDecade) expect(n).to.be.within(18, 50);
  });

  it('sets a trial\'s values in a copy of the template, keeping the rest', () => {
    const template = exampleTrainingSweep().spec.template;
    const spec = trialSpec(template, { architecture: 'simple-cnn', learningRate: 0.01, epochs: 2, imageSize: 32, randomCrop: false });
    expect(spec.architecture).to.equal('simple-cnn');
    expect(spec.hyperparameters).to.deep.include({ learningRate: 0.01, epochs: 2, imageSize: 32, batchSize: 32 });
    expect(spec.hyperparameters?.augmentation).to.deep.equal({ horizontalFlip: true, randomCrop: false, brightness: 0.1 });
    expect(spec.dataset).to.deep.equal(template.dataset);
    expect(template.hyperparameters?.learningRate).to.equal(0.002);
    const bare = trialSpec({ model: 'm', dataset: { uri: 'file:///d' } }, { horizontalFlip: false });
    expect(bare).to.deep.equal({ model: 'm', dataset: { uri: 'file:///d' }, hyperparameters: { augmentation: { horizontalFlip: false } } });
  });
});

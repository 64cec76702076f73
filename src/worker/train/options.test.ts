import { expect } from 'chai';
import { TerminalError } from '../../shared/errors.js';
import { DEFAULT_ARCHITECTURE, defaultHyperparameters } from '../../ml/architectures.js';
import { parseTrainOptions } from './options.js';

function fails(raw: Parameters<typeof parseTrainOptions>[0], message: RegExp): void {
  let err: unknown;
  try {
    parseTrainOptions(raw);
  } catch (e) {
    err = e;
  }
  expect(err).to.be.instanceOf(TerminalError).with.property('reason', 'InvalidArguments');
  expect((err as Error).message).to.match(message);
}

describe('parseTrainOptions', () => {
  it('fills defaults from the default architecture\'s hyperparameters (the pretrained mobilenet-v2)', () => {
    const c = parseTrainOptions({ data: 'gs://b/d', out: 'gs://b/m' });
    const d = defaultHyperparameters(DEFAULT_ARCHITECTURE);
    expect(DEFAULT_ARCHITECTURE).to.equal('mobilenet-v2');
    expect(c).to.include({
      architecture: DEFAULT_ARCHITECTURE,
      imageSize: d.imageSize,
      epochs: d.epochs,
      batchSize: d.batchSize,
      learningRate: d.learningRate,
      resize: 'cover',
      backend: 'auto',
      seed: 42,
      splitSeed: 0,
    });
    expect(c.augmentation.horizontalFlip).to.equal(true);
    expect(c.earlyStopping).to.deep.equal({ patience: d.earlyStopping.patience });
    expect(c.split).to.deep.equal({ train: 0.8, validation: 0.1, test: 0.1 });
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('takes each architecture\'s own defaults', () => {
    const c = parseTrainOptions({ data: '/d', out: '/m', architecture: 'compact-cnn' });
    expect(c).to.include({ architecture: 'compact-cnn', imageSize: 112, epochs: 16, learningRate: 0.003 });
    expect(parseTrainOptions({ data: '/d', out: '/m', architecture: 'simple-cnn', imageSize: '16' }).imageSize).to.equal(16);
  });

  it('parses every flag', () => {
    const c = parseTrainOptions({
      data: '/d', out: '/m', architecture: 'simple-cnn', imageSize: '128', resize: 'fill', epochs: '15', batchSize: '64',
      learningRate: '0.001', seed: '7', augmentation: false, patience: '0', split: '0.7,0.15,0.15', splitSeed: '3',
      classes: 'cat, dog', backend: 'wasm', concurrency: '4',
    });
    expect(c).to.include({ architecture: 'simple-cnn', imageSize: 128, resize: 'fill', epochs: 15, batchSize: 64, learningRate: 0.001, seed: 7, splitSeed: 3, backend: 'wasm', concurrency: 4 });
    expect(c.augmentation).to.deep.equal({ horizontalFlip: false, randomCrop: false, brightness: 0 });
    expect(c.earlyStopping).to.equal(undefined);
    expect(c.split).to.deep.equal({ train: 0.7, validation: 0.15, test: 0.15 });
    expect(c.classes).to.deep.equal(['cat', 'dog']);
  });

  it('rejects bad values with the flag name', () => {
    fails({ out: '/m' }, /--data <uri> is required/);
    fails({ data: '/d' }, /--out <uri> is required/);
    fails({ data: '/d', out: '/m', epochs: '2.5' }, /--epochs must be an integer/);
    fails({ data: '/d', out: '/m', epochs: '0' }, /--epochs must be between 1/);
    fails({ data: '/d', out: '/m', learningRate: '-1' }, /--learning-rate/);
    fails({ data: '/d', out: '/m', architecture: 'resnet' }, /--architecture must be one of mobilenet-v2, compact-cnn, simple-cnn/);
    fails({ data: '/d', out: '/m', imageSize: '8' }, /--image-size must be between 32/);
    fails({ data: '/d', out: '/m', imageSize: '150' }, /--image-size must be a multiple of 32 for mobilenet-v2 \(e\.g\. 160\), got 150/);
    fails({ data: '/d', out: '/m', architecture: 'compact-cnn', imageSize: '16' }, /--image-size must be between 32/);
    fails({ data: '/d', out: '/m', split: '0.8,0.2' }, /three fractions/);
    fails({ data: '/d', out: '/m', classes: 'cat' }, /at least two/);
    fails({ data: '/d', out: '/m', backend: 'gpu' }, /--backend must be one of/);
    fails({ data: '/d', out: '/m', resize: 'crop' }, /--resize must be cover or fill/);
  });
});

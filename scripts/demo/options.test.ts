import { expect } from 'chai';
import { parseDemoArgs } from './options.js';

describe('demo options', () => {
  it('defaults to a generated dataset with a small, fast model', () => {
    expect(parseDemoArgs([])).to.deep.equal({ perClass: 200, epochs: 3, imageSize: 32, exit: false, help: false });
  });

  it('uses bigger defaults for real photos and reads every flag', () => {
    expect(parseDemoArgs(['--data', '/photos'])).to.include({ data: '/photos', perClass: 200, epochs: 3, imageSize: 128 });
    expect(parseDemoArgs(['--data', '/p', '--per-class', '50', '--epochs', '2', '--image-size', '64', '--exit'])).to.include({ perClass: 50, epochs: 2, imageSize: 64, exit: true });
  });

  it('rejects unknown flags and bad numbers with a clear message', () => {
    expect(() => parseDemoArgs(['--nope'])).to.throw(/Unknown option '--nope'/);
    expect(() => parseDemoArgs(['--epochs', 'ten'])).to.throw(/--epochs must be a whole number from 1 to 100, got "ten"/);
    expect(() => parseDemoArgs(['--per-class', '3'])).to.throw(/--per-class/);
    expect(() => parseDemoArgs(['--image-size', '48'])).to.throw(/--image-size must be a multiple of 32 for the pretrained mobilenet-v2, e.g. 64, got 48/);
  });
});

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

  it('an existing cluster: --kubeconfig with both images and the bucket emulator, defaults for the rest', () => {
    const base = ['--kubeconfig', '/k/config', '--operator-image', 'kennel-operator:dev', '--worker-image', 'reg:5000/kennel-worker:dev', '--gcs-endpoint', 'http://fake-gcs.kennel-demo:4443/'];
    expect(parseDemoArgs(base).cluster).to.deep.equal({
      kubeconfig: '/k/config',
      operatorImage: 'kennel-operator:dev',
      workerImage: 'reg:5000/kennel-worker:dev',
      gcsEndpoint: 'http://fake-gcs.kennel-demo:4443',
      uploadEndpoint: 'http://fake-gcs.kennel-demo:4443',
      namespace: 'default',
      release: 'kennel',
    });
    expect(parseDemoArgs([...base, '--upload-endpoint', 'http://127.0.0.1:4443', '--namespace', 'pets', '--release', 'k']).cluster).to.include({ uploadEndpoint: 'http://127.0.0.1:4443', namespace: 'pets', release: 'k' });
    expect(parseDemoArgs([]).cluster).to.equal(undefined);
  });

  it('rejects an incomplete or contradictory existing-cluster command line, naming the flag', () => {
    expect(() => parseDemoArgs(['--kubeconfig', '/k'])).to.throw(/--kubeconfig needs --gcs-endpoint/);
    expect(() => parseDemoArgs(['--kubeconfig', '/k', '--gcs-endpoint', 'http://g:4443', '--worker-image', 'w'])).to.throw(/--kubeconfig needs --operator-image/);
    expect(() => parseDemoArgs(['--operator-image', 'x'])).to.throw(/--operator-image needs --kubeconfig/);
    const ok = ['--kubeconfig', '/k', '--operator-image', 'o', '--worker-image', 'w'];
    expect(() => parseDemoArgs([...ok, '--gcs-endpoint', 'gs://bucket'])).to.throw(/--gcs-endpoint must be an http\(s\) URL, got "gs:\/\/bucket"/);
    expect(() => parseDemoArgs([...ok, '--gcs-endpoint', 'http://g', '--namespace', 'Pets'])).to.throw(/--namespace must be a DNS label/);
  });
});

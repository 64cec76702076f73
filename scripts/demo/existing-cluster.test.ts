import { expect } from 'chai';
import { chartValues, imageValues, toolPath } from './existing-cluster.js';

describe('demo on an existing cluster: chart values and tools', () => {
  it('splits an image into the chart\'s repository, tag or digest (a registry port is no tag)', () => {
    expect(imageValues('kennel-operator:dev')).to.deep.equal({ repository: 'kennel-operator', tag: 'dev' });
    expect(imageValues('localhost:5000/team/kennel-worker:1.2')).to.deep.equal({ repository: 'localhost:5000/team/kennel-worker', tag: '1.2' });
    expect(imageValues('localhost:5000/kennel-worker')).to.deep.equal({ repository: 'localhost:5000/kennel-worker' });
    expect(imageValues('ghcr.io/k/kennel-worker@sha256:abc')).to.deep.equal({ repository: 'ghcr.io/k/kennel-worker', digest: 'sha256:abc' });
  });

  it('installs with the given images, the emulator as the bucket, one replica, the demo namespace watched', () => {
    const values = chartValues(
      { kubeconfig: '/k', operatorImage: 'op:dev', workerImage: 'wk:dev', gcsEndpoint: 'http://g:4443', uploadEndpoint: 'http://127.0.0.1:4443', namespace: 'pets', release: 'kennel' },
      'gs://kennel-demo/kennel',
    );
    expect(values).to.deep.equal({
      image: { operator: { repository: 'op', tag: 'dev' }, worker: { repository: 'wk', tag: 'dev' } },
      storage: { artifactRoot: 'gs://kennel-demo/kennel', gcs: { auth: 'emulator', endpoint: 'http://g:4443' } },
      operator: { replicas: 1, watchNamespaces: ['pets'] },
    });
  });

  it('takes KENNEL_HELM / KENNEL_KUBECTL over PATH', () => {
    expect(toolPath('helm', { KENNEL_HELM: '/opt/helm', PATH: '/usr/bin' })).to.equal('/opt/helm');
    expect(toolPath('kubectl', { KENNEL_KUBECTL: '/opt/kubectl', PATH: '/usr/bin' })).to.equal('/opt/kubectl');
  });
});

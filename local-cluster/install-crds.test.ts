import { expect } from 'chai';
import { buildCrds } from '../src/shared/api/crd.js';
import { defaultCrdDirs, readCrds, thirdPartyCrdDir } from './install-crds.js';

describe('local cluster: the CRDs it installs', () => {
  it('reads every one of Kennel’s CRDs and GKE’s PodMonitoring by default', () => {
    const names = readCrds(defaultCrdDirs).map((c) => c.metadata?.name).sort();
    const kennel = [...buildCrds().values()].map((c) => c.metadata.name);
    expect(kennel).to.include.members(['inferenceservices.kennel.dev', 'modelversions.kennel.dev', 'trainingruns.kennel.dev', 'batchpredictions.kennel.dev']);
    expect(names).to.deep.equal([...kennel, 'podmonitorings.monitoring.googleapis.com'].sort());
    expect(readCrds([thirdPartyCrdDir]).map((c) => c.metadata?.name)).to.deep.equal(['podmonitorings.monitoring.googleapis.com']);
  });

  it('refuses a directory that does not exist instead of starting without its CRDs', () => {
    expect(() => readCrds([`${thirdPartyCrdDir}/../no-such-dir`])).to.throw(/CRD directory .*no-such-dir does not exist/);
  });
});

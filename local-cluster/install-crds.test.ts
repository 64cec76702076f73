import { expect } from 'chai';
import { defaultCrdDirs, readCrds, thirdPartyCrdDir } from './install-crds.js';

describe('local cluster: the CRDs it installs', () => {
  it('reads Kennel’s three CRDs and GKE’s PodMonitoring by default', () => {
    const names = readCrds(defaultCrdDirs).map((c) => c.metadata?.name).sort();
    expect(names).to.deep.equal(['inferenceservices.kennel.dev', 'modelversions.kennel.dev', 'podmonitorings.monitoring.googleapis.com', 'trainingruns.kennel.dev']);
    expect(readCrds([thirdPartyCrdDir]).map((c) => c.metadata?.name)).to.deep.equal(['podmonitorings.monitoring.googleapis.com']);
  });

  it('refuses a directory that does not exist instead of starting without its CRDs', () => {
    expect(() => readCrds([`${thirdPartyCrdDir}/../no-such-dir`])).to.throw(/CRD directory .*no-such-dir does not exist/);
  });
});

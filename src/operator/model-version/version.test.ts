import { expect } from 'chai';
import { exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import { nextVersion, versionOfRun, versionsOf } from './version.js';

describe('model-version numbering', () => {
  const mv = (name: string, model: string, version: number, runUid?: string) => {
    const v = exampleModelVersion(name, version);
    v.spec.model = model;
    if (runUid) v.spec.lineage.trainingRunUid = runUid;
    return v;
  };
  const existing = [mv('a-v1', 'a', 1, 'r1'), mv('a-v3', 'a', 3, 'r3'), mv('b-v7', 'b', 7, 'r7')];

  it('is 1 + the highest version of the same model, with gaps kept', () => {
    expect(nextVersion(existing, 'a')).to.equal(4);
    expect(nextVersion(existing, 'b')).to.equal(8);
    expect(nextVersion(existing, 'new')).to.equal(1);
    expect(nextVersion([], 'a')).to.equal(1);
  });

  it('finds the version a run already registered', () => {
    expect(versionOfRun(existing, 'r3')?.metadata.name).to.equal('a-v3');
    expect(versionOfRun(existing, 'r9')).to.equal(undefined);
  });

  it('lists a model\'s versions newest first', () => {
    expect(versionsOf(existing, 'a').map((v) => v.spec.version)).to.deep.equal([3, 1]);
  });
});

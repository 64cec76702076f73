import { expect } from 'chai';
import { canonicalJson, childName, jobName, modelVersionName, servingDeploymentName, specHash } from './names.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('names', () => {
  it('hashes canonically: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).to.equal('{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}');
    expect(specHash({ a: 1, b: 2 })).to.equal(specHash({ b: 2, a: 1 }));
    expect(specHash({ a: 1 })).not.to.equal(specHash({ a: 2 }));
    expect(specHash({ a: 1 })).to.match(/^[0-9a-f]{8}$/);
  });

  it('derives the Job name from the run and its spec', () => {
    const a = jobName('cats', { epochs: 3 });
    expect(a).to.match(/^cats-[0-9a-f]{8}$/);
    expect(jobName('cats', { epochs: 3 })).to.equal(a);
    expect(jobName('cats', { epochs: 4 })).not.to.equal(a);
  });

  it('keeps long names within 63 characters, valid and distinct', () => {
    const long1 = `${'a'.repeat(70)}-x`;
    const long2 = `${'a'.repeat(70)}-y`;
    const n1 = jobName(long1, {});
    const n2 = jobName(long2, {});
    for (const n of [n1, n2]) {
      expect(n.length).to.be.at.most(63);
      expect(n).to.match(DNS_LABEL);
    }
    expect(n1).not.to.equal(n2);
    expect(childName('a.b.c', 'x')).to.equal('a-b-c-x');
    expect(childName(`${'z'.repeat(61)}-`, '')).to.match(DNS_LABEL);
  });

  it('names versions and serving Deployments', () => {
    expect(modelVersionName('cats-dogs', 3)).to.equal('cats-dogs-v3');
    expect(servingDeploymentName('web', 'cats-dogs-v3')).to.equal('web-cats-dogs-v3');
    expect(servingDeploymentName('w'.repeat(40), `${'m'.repeat(40)}-v12`).length).to.be.at.most(63);
  });
});

import { expect } from 'chai';
import { HttpError } from '../shared/errors.js';
import { decodeBase64, parseBody } from './request-schemas.js';

describe('request schemas', () => {
  it('decodes strict base64 and rejects anything else', () => {
    expect(decodeBase64(Buffer.from('hello').toString('base64'), 'x').toString()).to.equal('hello');
    for (const bad of ['abc', 'ab!d', 'AAAA====', 'A A=']) {
      expect(() => decodeBase64(bad, 'x'), bad).to.throw(HttpError).with.property('reason', 'MalformedBase64');
    }
    expect(() => decodeBase64('', 'x')).to.throw(HttpError).with.property('reason', 'EmptyBody');
  });

  it('accepts both KServe instance spellings and names the first problem otherwise', () => {
    expect(parseBody('kserve', { instances: [{ b64: 'AAAA' }, { image_bytes: { b64: 'AAAA' } }] }).instances).to.have.length(2);
    expect(() => parseBody('kserve', { instances: [] })).to.throw(HttpError, /instances/);
    expect(() => parseBody('kserve', { instances: [{ url: 'http://x' }] })).to.throw(HttpError).with.property('status', 400);
    expect(() => parseBody('feedback', { predictionId: '', label: 'cat' })).to.throw(HttpError, /predictionId/);
  });
});

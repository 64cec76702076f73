import { expect } from 'chai';
import path from 'node:path';
import { InvalidStorageUriError, joinUri, parseStorageUri } from './uri.js';

describe('storage uri', () => {
  it('parses gs:// into bucket and key', () => {
    expect(parseStorageUri('gs://my-bucket/data/cats')).to.deep.equal({ scheme: 'gs', bucket: 'my-bucket', key: 'data/cats' });
    expect(parseStorageUri('gs://my-bucket')).to.deep.equal({ scheme: 'gs', bucket: 'my-bucket', key: '' });
  });

  it('parses file:// URLs and plain paths to absolute paths', () => {
    expect(parseStorageUri('file:///tmp/x%20y/z')).to.deep.equal({ scheme: 'file', path: '/tmp/x y/z' });
    expect(parseStorageUri('rel/dir')).to.deep.equal({ scheme: 'file', path: path.resolve('rel/dir') });
    expect(parseStorageUri('/abs')).to.deep.equal({ scheme: 'file', path: '/abs' });
  });

  it('rejects unknown schemes, empty strings and bad bucket names', () => {
    expect(() => parseStorageUri('s3://b/k')).to.throw(InvalidStorageUriError, /unsupported scheme/);
    expect(() => parseStorageUri('')).to.throw(InvalidStorageUriError, /empty/);
    expect(() => parseStorageUri('gs:///k')).to.throw(InvalidStorageUriError, /bucket/);
    expect(() => parseStorageUri('gs://UPPER/k')).to.throw(InvalidStorageUriError, /bucket/);
  });

  it('joins names to prefixes, keeping their form', () => {
    expect(joinUri('gs://b/p', 'm/x.json')).to.equal('gs://b/p/m/x.json');
    expect(joinUri('gs://b/p/', '/x')).to.equal('gs://b/p/x');
    expect(joinUri('/tmp/out', 'a.json')).to.equal('/tmp/out/a.json');
    expect(joinUri('file:///tmp/out', 'report/index.html')).to.equal('file:///tmp/out/report/index.html');
  });
});

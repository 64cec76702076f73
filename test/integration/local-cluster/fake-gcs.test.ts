import { randomBytes } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { expect } from 'chai';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';

describe('test bed: fake-gcs-server answers @google-cloud/storage', function () {
  this.timeout(60_000);
  let gcs: FakeGcs;
  let storage: Storage;

  before(async () => {
    gcs = await startFakeGcs();
    storage = new Storage({ apiEndpoint: gcs.endpoint, projectId: 'kennel-test' });
  });
  after(async () => {
    await gcs?.stop();
  });

  it('serves plain HTTP on a loopback port', () => {
    expect(gcs.endpoint).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates a bucket, uploads (simple and resumable), lists and downloads', async () => {
    const [bucket] = await storage.createBucket('kennel-models');
    const small = Buffer.from('{"hello":"kennel"}');
    await bucket.file('m/v1/metadata.json').save(small, { resumable: false, contentType: 'application/json' });
    // Resumable uploads follow the Location header the server returns: it must point back here.
    const large = randomBytes(3 * 1024 * 1024 + 17);
    await bucket.file('m/v1/weights.bin').save(large, { resumable: true, chunkSize: 1024 * 1024 });

    const [files] = await bucket.getFiles({ prefix: 'm/v1/' });
    expect(files.map((f) => f.name).sort()).to.deep.equal(['m/v1/metadata.json', 'm/v1/weights.bin']);

    const [gotSmall] = await bucket.file('m/v1/metadata.json').download();
    expect(gotSmall.toString()).to.equal(small.toString());
    const [gotLarge] = await bucket.file('m/v1/weights.bin').download();
    expect(gotLarge.equals(large)).to.equal(true);
    const [meta] = await bucket.file('m/v1/weights.bin').getMetadata();
    expect(Number(meta.size)).to.equal(large.length);
  });

  it('reports a missing object as 404', async () => {
    const [exists] = await storage.bucket('kennel-models').file('nope').exists();
    expect(exists).to.equal(false);
    const err = await storage.bucket('kennel-models').file('nope').download().then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(err?.code).to.equal(404);
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { expect } from 'chai';
import { uploadPhotos } from '../../../local-cluster/dataset-upload.js';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';

describe('local cluster: dataset upload to the GCS emulator', function () {
  this.timeout(60_000);
  let gcs: FakeGcs;
  let dir: string;

  before(async () => {
    gcs = await startFakeGcs();
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-upload-'));
    for (const cls of ['cat', 'dog']) await mkdir(path.join(dir, cls));
  });
  after(async () => {
    await gcs?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the bucket and puts each photo at <prefix>/<class>/<file>, bytes and content type intact', async () => {
    const files = { cat: [path.join(dir, 'cat', 'a.jpg'), path.join(dir, 'cat', 'b.png')], dog: [path.join(dir, 'dog', 'c.webp')] };
    for (const [i, f] of Object.values(files).flat().entries()) await writeFile(f, Buffer.from(`photo ${i}`));

    expect(await uploadPhotos(gcs.endpoint, 'kennel-upload', 'datasets/pets', files)).to.equal(3);
    // A second upload into the existing bucket adds to it.
    expect(await uploadPhotos(gcs.endpoint, 'kennel-upload', 'datasets/more', { cat: files.cat })).to.equal(2);

    const [objects] = await new Storage({ apiEndpoint: gcs.endpoint, projectId: 'kennel-test' }).bucket('kennel-upload').getFiles({ prefix: 'datasets/pets/' });
    const got = Object.fromEntries(await Promise.all(objects.map(async (o) => [o.name, { type: o.metadata.contentType, body: (await o.download())[0].toString() }] as const)));
    expect(got).to.deep.equal({
      'datasets/pets/cat/a.jpg': { type: 'image/jpeg', body: 'photo 0' },
      'datasets/pets/cat/b.png': { type: 'image/png', body: 'photo 1' },
      'datasets/pets/dog/c.webp': { type: 'image/webp', body: 'photo 2' },
    });
  });
});

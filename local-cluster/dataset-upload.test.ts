import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { choosePhotos } from './dataset-upload.js';

describe('local cluster: choosing the photos to upload', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'kennel-choose-'));
    for (const [cls, names] of Object.entries({ cat: ['c3.jpg', 'c1.JPEG', 'c2.png', 'notes.txt', 'c4.webp'], dog: ['d2.jpg', 'd1.jpg', 'd3.jpg'] })) {
      await mkdir(path.join(root, cls));
      for (const n of names) await writeFile(path.join(root, cls, n), 'x');
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('takes, per class sorted by name, the first photos to train on and the next ones held out, ignoring other files', async () => {
    const split = await choosePhotos(['cat', 'dog'], { train: 2, heldOut: 1 }, root);
    expect(split.train).to.deep.equal({ cat: [path.join(root, 'cat', 'c1.JPEG'), path.join(root, 'cat', 'c2.png')], dog: [path.join(root, 'dog', 'd1.jpg'), path.join(root, 'dog', 'd2.jpg')] });
    expect(split.heldOut).to.deep.equal({ cat: [path.join(root, 'cat', 'c3.jpg')], dog: [path.join(root, 'dog', 'd3.jpg')] });
  });

  it('names the class folder that has too few photos', async () => {
    const err = await choosePhotos(['cat', 'dog'], { train: 3, heldOut: 1 }, root).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.equal(`${path.join(root, 'dog')} has 3 photos, need 4`);
  });
});

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TerminalError } from '../../shared/errors.js';
import { createFileStorage } from '../../shared/storage/index.js';
import { writeSyntheticDataset } from '../../../test/integration/worker/synthetic-dataset.js';
import { loadDataset } from './load-dataset.js';
import { splitDataset } from './split-dataset.js';
import { feedbackRecord, testImage, writeFeedbackLog } from './test-support/prediction-log-fixture.js';
import { DEFAULT_SPLIT } from './split.js';

async function rejection(p: Promise<unknown>): Promise<TerminalError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(TerminalError);
  return err as TerminalError;
}

describe('loadDataset', function () {
  this.timeout(20_000);
  let dir: string;
  const storage = createFileStorage();
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-ds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes a class-per-folder dataset, skipping and naming bad files and dropping duplicates', async () => {
    const expected = await writeSyntheticDataset(dir, { perClass: 12 });
    await writeFile(path.join(dir, 'README.md'), 'outside any class');
    await writeFile(path.join(dir, 'dark', '.DS_Store'), 'hidden');
    const progress: number[] = [];
    const ds = await loadDataset({ uri: dir, storage, imageSize: 8, onProgress: (done) => progress.push(done) });
    expect(ds.classes).to.deep.equal(['bright', 'dark']);
    expect(ds.images).to.have.length(24);
    expect(ds.images.every((img) => img.pixels.length === 8 * 8 * 3)).to.equal(true);
    expect(ds.ignored).to.deep.equal(['README.md']);
    expect(ds.skipped.map((s) => [s.name, s.reason])).to.deep.equal([
      [expected.skipped[0], 'corrupt'],
      [expected.skipped[1], 'empty'],
      [expected.skipped[2], 'unsupported-format'],
    ]);
    expect(ds.duplicates).to.deep.equal([{ name: 'bright/copy-of-0.png', duplicateOf: 'bright/0.png' }]);
    expect(progress.at(-1)).to.equal(24 + 4); // 12 + 12 images, 3 bad files, 1 duplicate; README.md and .DS_Store are not listed as class files
    const bright = ds.images.find((i) => i.name === 'bright/3.png');
    const dark = ds.images.find((i) => i.name === 'dark/3.jpg');
    const mean = (p: Uint8Array | undefined): number => (p ? p.reduce((a, b) => a + b, 0) / p.length : NaN);
    expect(mean(bright?.pixels)).to.be.greaterThan(150);
    expect(mean(dark?.pixels)).to.be.lessThan(100);
  });

  it('has a digest that depends on content and labels, not on file names', async () => {
    await writeSyntheticDataset(dir, { perClass: 4 });
    const a = await loadDataset({ uri: dir, storage, imageSize: 4 });
    await rename(path.join(dir, 'dark', '1.jpg'), path.join(dir, 'dark', 'renamed.jpg'));
    const b = await loadDataset({ uri: dir, storage, imageSize: 4 });
    expect(b.digest).to.equal(a.digest);
    await rename(path.join(dir, 'dark', '2.jpg'), path.join(dir, 'bright', 'moved.jpg'));
    const c = await loadDataset({ uri: dir, storage, imageSize: 4 });
    expect(c.digest).to.not.equal(a.digest);
  });

  it('splits by content hash: stable across runs, duplicates never straddle', async () => {
    await writeSyntheticDataset(dir, { perClass: 40 });
    const ds = await loadDataset({ uri: dir, storage, imageSize: 4 });
    const s1 = splitDataset(ds, DEFAULT_SPLIT);
    const s2 = splitDataset(await loadDataset({ uri: dir, storage, imageSize: 4 }), DEFAULT_SPLIT);
    expect(s1.test.names).to.deep.equal(s2.test.names);
    expect(s1.train.count + s1.validation.count + s1.test.count).to.equal(80);
    expect(s1.train.pixels.length).to.equal(s1.train.count * 48);
    expect(Array.from(s1.test.labels)).to.deep.equal(s1.test.names.map((n) => (n.startsWith('bright/') ? 0 : 1)));
    const all = [...s1.train.names, ...s1.validation.names, ...s1.test.names];
    expect(new Set(all).size).to.equal(all.length);
    expect(all).to.not.include('bright/copy-of-0.png');
  });

  it('uses the given classes only, in the given order', async () => {
    await writeSyntheticDataset(dir, { perClass: 3 });
    await mkdir(path.join(dir, 'other'));
    const ds = await loadDataset({ uri: dir, storage, imageSize: 4, classes: ['dark', 'bright'] });
    expect(ds.classes).to.deep.equal(['dark', 'bright']);
    expect(ds.images[0]?.name.startsWith('dark/')).to.equal(true);
    expect(ds.images[0]?.classIndex).to.equal(0);
    const err = await rejection(loadDataset({ uri: dir, storage, imageSize: 4, classes: ['dark', 'horse'] }));
    expect(err.reason).to.equal('InvalidDataset');
    expect(err.message).to.match(/no folder for class "horse"/);
  });

  it('fails clearly on a missing prefix, a single class, or no readable image', async () => {
    expect((await rejection(loadDataset({ uri: path.join(dir, 'nope'), storage, imageSize: 4 }))).reason).to.equal('DatasetNotFound');
    await writeSyntheticDataset(dir, { perClass: 2 });
    await rm(path.join(dir, 'dark'), { recursive: true });
    const one = await rejection(loadDataset({ uri: dir, storage, imageSize: 4 }));
    expect(one.reason).to.equal('InvalidDataset');
    expect(one.message).to.match(/at least two classes, found 1 .*\(bright\)/);
    await mkdir(path.join(dir, 'dark'));
    await writeFile(path.join(dir, 'dark', 'a.jpg'), 'garbage');
    const unreadable = await rejection(loadDataset({ uri: dir, storage, imageSize: 4 }));
    expect(unreadable.message).to.match(/class "dark" has no readable image/);
    await rm(path.join(dir, 'bright'), { recursive: true });
    await mkdir(path.join(dir, 'b'));
    await writeFile(path.join(dir, 'b', 'x.jpg'), '');
    const none = await rejection(loadDataset({ uri: dir, storage, imageSize: 4 }));
    expect(none.message).to.match(/no readable image .*1 empty, 1 unsupported-format/);
  });

  it('reads several sources as one dataset: class folders and a prediction log, each with its digest, the first source winning a duplicate', async () => {
    const base = path.join(dir, 'base');
    await writeSyntheticDataset(base, { perClass: 4 });
    const log = `${pathToFileURL(dir).href}/log`;
    const copied = await readFile(path.join(base, 'dark', '1.jpg'));
    const fresh = await testImage(210, 9);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    await writeFeedbackLog(
      storage,
      log,
      [
        // A corrected prediction on a new photo, and one on a photo the base set already has (labelled otherwise there).
        feedbackRecord({ id: 'p1', sha256: fresh.sha256, label: 'bright', predicted: 'dark' }),
        feedbackRecord({ id: 'p2', sha256: sha(copied), label: 'bright', predicted: 'dark' }),
        feedbackRecord({ id: 'p3', sha256: 'f'.repeat(64), label: 'horse' }),
      ],
      [fresh.bytes, copied, Buffer.from('not stored as feedback')],
    );
    await writeFeedbackLog(storage, log, [], [await testImage(0, 1).then((x) => x.bytes)], 1);
    await storage.write(`${log}/images/${'f'.repeat(64)}`, fresh.bytes);
    const ds = await loadDataset({
      sources: [
        { uri: base, type: 'ClassFolders' },
        { uri: log, type: 'PredictionLog' },
      ],
      storageOf: () => storage,
      imageSize: 4,
      classes: ['bright', 'dark'],
    });
    const single = await loadDataset({ uri: base, storage, imageSize: 4 });
    expect(ds.sources.map((src) => [src.uri, src.type, src.images])).to.deep.equal([
      [base, 'ClassFolders', single.images.length],
      [log, 'PredictionLog', 2],
    ]);
    // A source's digest is the digest it has on its own.
    expect(ds.sources[0]?.digest).to.equal(single.digest);
    expect(ds.sources[1]?.digest).to.not.equal(ds.sources[0]?.digest);
    expect(ds.sources[1]?.feedback).to.include({ records: 3, withoutImage: 0 });
    // The new photo joins as 'bright'; the copy keeps the base set's label ('dark').
    expect(ds.images).to.have.length(single.images.length + 1);
    expect(ds.images.find((i) => i.sha256 === fresh.sha256)?.classIndex).to.equal(0);
    expect(ds.images.find((i) => i.sha256 === sha(copied))?.classIndex).to.equal(1);
    expect(ds.duplicates.map((d) => d.name)).to.include(`bright/${sha(copied)}`);
    expect(ds.digest).to.not.equal(single.digest);
  });
});

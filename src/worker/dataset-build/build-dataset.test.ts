import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TerminalError } from '../../shared/errors.js';
import { createFileStorage } from '../../shared/storage/index.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { feedbackRecord, testImage, writeFeedbackLog } from '../dataset/test-support/prediction-log-fixture.js';
import { buildDataset } from './build-dataset.js';

describe('kennel dataset build', function () {
  this.timeout(20_000);
  let dir: string;
  let root: string;
  const storage = createFileStorage();
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-build-'));
    root = pathToFileURL(dir).href;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('joins two logs into class folders named by content hash, with a manifest whose digest is the one training reports', async () => {
    const imgs = await Promise.all([0, 1, 2, 3, 4].map((i) => testImage(40 + i * 40, i)));
    const [a, b, c, d, e] = imgs as [(typeof imgs)[number], (typeof imgs)[number], (typeof imgs)[number], (typeof imgs)[number], (typeof imgs)[number]];
    await writeFeedbackLog(
      storage,
      `${root}/logs/one`,
      [
        feedbackRecord({ id: 'p1', sha256: a.sha256, label: 'dog', predicted: 'cat' }),
        feedbackRecord({ id: 'p2', sha256: b.sha256, label: 'cat', predicted: 'cat' }),
        feedbackRecord({ id: 'p3', sha256: c.sha256, label: 'bird', predicted: 'cat' }),
      ],
      [a.bytes, b.bytes, c.bytes],
    );
    await writeFeedbackLog(
      storage,
      `${root}/logs/two`,
      [
        // The same photo as p1, labelled later in the other log: the later word wins.
        feedbackRecord({ id: 'q1', sha256: a.sha256, label: 'cat', predicted: 'dog', time: '2026-11-21T00:00:00.000Z' }),
        feedbackRecord({ id: 'q2', sha256: d.sha256, label: 'dog', predicted: 'cat' }),
        feedbackRecord({ id: 'q3', sha256: e.sha256, label: 'dog', predicted: 'dog' }),
      ],
      [a.bytes, d.bytes, e.bytes],
    );
    const out = `${root}/datasets/corrections-1`;
    const manifest = await buildDataset({ logs: [`${root}/logs/one`, `${root}/logs/two`], out, storageOf: () => storage, classes: ['cat', 'dog'], now: () => new Date('2026-11-22T00:00:00Z') });
    expect(manifest).to.deep.include({ builtAt: '2026-11-22T00:00:00.000Z', examples: 4, perClass: { cat: 2, dog: 2 }, corrections: 2, unknownLabel: 1, duplicates: 1, corrupt: 0 });
    const files = (await storage.list(out)).map((f) => f.name);
    expect(files).to.deep.equal(['cat/' + [a.sha256, b.sha256].sort()[0] + '.jpg', 'cat/' + [a.sha256, b.sha256].sort()[1] + '.jpg', ...['dog/' + [d.sha256, e.sha256].sort()[0] + '.jpg', 'dog/' + [d.sha256, e.sha256].sort()[1] + '.jpg'], 'manifest.json'].sort());
    // Training on the folder reports the manifest's digest for it.
    const loaded = await loadDataset({ uri: out, storage, imageSize: 4 });
    expect(loaded.digest).to.equal(manifest.digest);
    expect(loaded.ignored).to.deep.equal(['manifest.json']);

    const wrongOnly = await buildDataset({ logs: [`${root}/logs/one`, `${root}/logs/two`], out: `${root}/datasets/wrong`, storageOf: () => storage, wrongOnly: true });
    expect(wrongOnly.perClass).to.deep.equal({ bird: 1, cat: 1, dog: 1 });

    const err = await buildDataset({ logs: [`${root}/logs/one`], out, storageOf: () => storage }).catch((x: unknown) => x);
    expect(err).to.be.instanceOf(TerminalError).with.property('reason', 'InvalidArguments');
    expect(String(err)).to.match(/is not empty/);
  });

  it('leaves out a stored image whose bytes no longer match its hash', async () => {
    const a = await testImage(80, 1);
    await writeFeedbackLog(storage, `${root}/log`, [feedbackRecord({ id: 'p1', sha256: a.sha256, label: 'dog' })], []);
    await storage.write(`${root}/log/images/${a.sha256}`, Buffer.from('tampered'));
    const manifest = await buildDataset({ logs: [`${root}/log`], out: `${root}/out`, storageOf: () => storage });
    expect(manifest).to.deep.include({ examples: 0, corrupt: 1 });
  });
});

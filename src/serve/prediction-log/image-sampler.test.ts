import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../../shared/clock.js';
import { createFileStorage } from '../../shared/storage/index.js';
import { createImageSampler } from './image-sampler.js';
import { outageStorage } from './test-support/outage-storage.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('image sampler', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-img-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores the sampled share, content-addressed and once per image, and keeps images through an outage within its budget', async () => {
    const storage = outageStorage(createFileStorage());
    const log = pathToFileURL(dir).href;
    let draw = 0;
    const draws = [0.1, 0.7, 0.2, 0.9, 0.3, 0.4, 0.05];
    const sampler = createImageSampler({ storage, logUri: log, clock: systemClock(), sampleRate: 0.5, maxBufferBytes: 250, retry: { initialMs: 20, maxMs: 50 }, random: () => draws[draw++ % draws.length] as number });
    const imgs = [0, 1, 2, 3, 4, 5].map((i) => Buffer.alloc(100, i));
    storage.down = true;
    const offers = imgs.map((b) => sampler.offer(sha(b), b));
    // Sampled: draws below 0.5 (images 0, 2, 4, 5); the third sampled one finds the 250-byte budget full.
    expect(offers.map((o) => o.stored ?? o.why)).to.deep.equal([`images/${sha(imgs[0]!)}`, 'not-sampled', `images/${sha(imgs[2]!)}`, 'not-sampled', 'buffer-full', 'buffer-full']);
    // The same image again is not queued twice.
    expect(sampler.offer(sha(imgs[0]!), imgs[0]!).stored).to.equal(`images/${sha(imgs[0]!)}`);
    expect(sampler.queue.records).to.equal(2);
    storage.down = false;
    expect(await sampler.queue.drain(Date.now() + 2_000)).to.deep.equal({ records: 0, bytes: 0 });
    const stored = (await createFileStorage().list(`${log}/images`)).map((e) => e.name).sort();
    expect(stored).to.deep.equal([sha(imgs[0]!), sha(imgs[2]!)].sort());
    // Rate 0 stores nothing.
    const off = createImageSampler({ storage, logUri: log, clock: systemClock(), sampleRate: 0, maxBufferBytes: 1e6, retry: { initialMs: 1, maxMs: 1 } });
    expect(off.offer(sha(imgs[1]!), imgs[1]!)).to.deep.equal({ why: 'not-sampled' });
  });
});

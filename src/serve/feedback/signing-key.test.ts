import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/logger.js';
import { createFileStorage } from '../../shared/storage/index.js';
import { outageStorage } from '../prediction-log/test-support/outage-storage.js';
import { loadSigningKey } from './signing-key.js';

describe('prediction id key, shared through the log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-key-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const logger = createLogger({ level: 'silent' });
  const load = (storage = createFileStorage(), deadline = Date.now() + 5_000, sub = '') => loadSigningKey({ storage, logUri: `${pathToFileURL(dir).href}${sub}`, clock: systemClock(), logger, deadline });

  it('servers starting at once all end up with the one key the first of them created', async () => {
    const keys = await Promise.all([load(), load(), load(), load()]);
    expect(keys[0]).to.have.length(32);
    for (const k of keys) expect(k.equals(keys[0] as Buffer)).to.equal(true);
    // A later start (a restart, the next version) reads it too.
    expect((await load()).equals(keys[0] as Buffer)).to.equal(true);
  });

  it('retries while storage is unavailable, until its deadline', async () => {
    const flaky = outageStorage(createFileStorage());
    flaky.down = true;
    setTimeout(() => (flaky.down = false), 600);
    expect(await load(flaky)).to.have.length(32);
    expect(flaky.attempts).to.be.greaterThan(1);
    const dead = outageStorage(createFileStorage());
    dead.down = true;
    const err = await load(dead, Date.now() + 300, '/another-log').catch((e: unknown) => e);
    expect(err).to.have.property('reason', 'Unavailable');
  });

  it('refuses a key file that is not a usable key', async () => {
    await mkdir(path.join(dir, 'keys'), { recursive: true });
    await writeFile(path.join(dir, 'keys', 'prediction-id.key'), 'short\n');
    const err = await load().catch((e: unknown) => e);
    expect(String(err)).to.match(/not a base64 key of at least 16 bytes/);
  });
});

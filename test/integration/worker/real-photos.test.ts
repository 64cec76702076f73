import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerOutcome } from '../../../src/shared/api/worker-report.js';
import { run as train } from '../../../src/worker/train/command.js';
import { captureStream, jsonLines } from './capture.js';

const SHARED = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
const PER_CLASS = 100;

/**
 * ~200 real photos (plus the three odd files) through the whole pipeline with the production
 * training loop: links to the shared photos in a temp folder (never copies), one short epoch.
 * Checks that it runs end to end, not how well it learns (bench:train measures that).
 */
describe('kennel train on ~200 real photos', function () {
  this.timeout(900_000);
  let dir: string;

  before(async function () {
    if (!existsSync(path.join(SHARED, 'cats-dogs', 'cat'))) {
      console.log(`    skipping: ${SHARED}cats-dogs is absent`);
      this.skip();
    }
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-real-'));
    for (const cls of ['cat', 'dog']) {
      await mkdir(path.join(dir, 'data', cls), { recursive: true });
      const files = (await readdir(path.join(SHARED, 'cats-dogs', cls))).sort().slice(0, PER_CLASS);
      for (const f of files) await symlink(path.join(SHARED, 'cats-dogs', cls, f), path.join(dir, 'data', cls, f));
    }
    const odd = path.join(SHARED, 'cats-dogs-oddities');
    if (existsSync(odd)) {
      for (const f of (await readdir(odd)).filter((f) => f.includes('__Cat'))) await symlink(path.join(odd, f), path.join(dir, 'data', 'cat', `odd-${f}`));
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('decodes, splits, trains, saves, reloads and evaluates', async () => {
    const term = path.join(dir, 'termination-log');
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await train(
      { data: path.join(dir, 'data'), out: path.join(dir, 'model'), epochs: '1', imageSize: '32', batchSize: '16' },
      { stdout: stdout.stream, stderr: stderr.stream, env: { ...process.env, KENNEL_TERMINATION_LOG: term } },
    );
    expect(code, stderr.text()).to.equal(0);
    const outcome = JSON.parse(await readFile(term, 'utf8')) as WorkerOutcome;
    expect(outcome.outcome).to.equal('Succeeded');
    if (outcome.outcome !== 'Succeeded') return;
    expect(outcome.skippedFiles, 'every real photo and odd file decodes').to.equal(0);
    expect(outcome.classes).to.deep.equal(['cat', 'dog']);
    expect(outcome.metrics.testImages).to.be.greaterThan(10);
    expect(outcome.metrics.accuracy).to.be.within(0, 1);
    const epochs = jsonLines(stdout.text()).filter((l) => l.event === 'epoch');
    expect(epochs).to.have.length(1);
    const mistakes = outcome.metrics.accuracy < 1 ? ['mistakes'] : [];
    expect((await readdir(path.join(dir, 'model', 'report'))).sort()).to.deep.equal(['confidence.png', 'confusion.png', 'curves.png', 'index.html', ...mistakes, 'reliability.png']);
  });
});

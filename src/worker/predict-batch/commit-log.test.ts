import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFileStorage } from '../../shared/storage/index.js';
import type { BatchResultLine } from '../../shared/api/batch-report.js';
import { commitPart, parsePart, readCommitted } from './commit-log.js';
import { partUri } from './layout.js';

describe('predict-batch commit log', () => {
  let dir: string;
  let out: string;
  const storage = createFileStorage();
  const ok = (path: string): BatchResultLine => ({ path, label: 'cat', confidence: 0.9, probabilities: { cat: 0.9, dog: 0.1 } });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kennel-commit-'));
    out = pathToFileURL(dir).href;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty, then reads back every committed part in order', async () => {
    expect(await readCommitted(storage, out, 1, 3)).to.deep.include({ lines: [], nextPart: 0 });
    await commitPart(storage, out, 1, 3, 0, [ok('a.jpg'), ok('b.jpg')]);
    await commitPart(storage, out, 1, 3, 1, [{ path: 'c.jpg', error: { reason: 'corrupt', message: 'truncated' } }]);
    await commitPart(storage, out, 2, 3, 0, [ok('elsewhere.jpg')]);
    const c = await readCommitted(storage, out, 1, 3);
    expect(c.lines.map((l) => l.path)).to.deep.equal(['a.jpg', 'b.jpg', 'c.jpg']);
    expect([...c.done].sort()).to.deep.equal(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(c.nextPart).to.equal(2);
  });

  it('ignores a part that is not result lines (its images are redone) and keeps each path once', async () => {
    await commitPart(storage, out, 0, 1, 0, [ok('a.jpg')]);
    writeFileSync(new URL(partUri(out, 0, 1, 1)), '{"path":"b.jpg","label":');
    await commitPart(storage, out, 0, 1, 2, [ok('a.jpg'), ok('c.jpg')]);
    const c = await readCommitted(storage, out, 0, 1);
    expect(c.lines.map((l) => l.path)).to.deep.equal(['a.jpg', 'c.jpg']);
    expect(c.nextPart).to.equal(3);
  });

  it('parses only lines of the result contract', () => {
    expect(parsePart('{"path":"a","label":"x","confidence":1,"probabilities":{"x":1}}\n\n')).to.have.length(1);
    expect(parsePart('{"path":"a"}\n')).to.equal(undefined);
    expect(parsePart('not json\n')).to.equal(undefined);
  });
});

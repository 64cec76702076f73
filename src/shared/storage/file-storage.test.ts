import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFileStorage } from './file-storage.js';
import { StorageError } from './storage.js';

describe('file storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-fs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes, reads, stats and lists objects through file:// URIs', async () => {
    const s = createFileStorage();
    const root = pathToFileURL(dir).href;
    await s.write(`${root}/out/model.json`, '{"a":1}', { contentType: 'application/json' });
    await s.write(`${root}/out/weights.bin`, Buffer.from([1, 2, 3]));
    expect((await s.read(`${root}/out/model.json`)).toString()).to.equal('{"a":1}');
    expect((await s.stat(`${root}/out/weights.bin`)).size).to.equal(3);
    expect(await s.exists(`${root}/out/weights.bin`)).to.equal(true);
    expect(await s.exists(`${root}/out/nope`)).to.equal(false);
    expect(await s.exists(`${root}/out`)).to.equal(false);
    const listed = await s.list(`${root}/out`);
    expect(listed.map((e) => [e.name, e.uri, e.size])).to.deep.equal([
      ['model.json', `${root}/out/model.json`, 7],
      ['weights.bin', `${root}/out/weights.bin`, 3],
    ]);
  });

  it('lists nested folders with slash-separated names from plain paths', async () => {
    await mkdir(path.join(dir, 'cat'));
    await mkdir(path.join(dir, 'dog', 'deep'), { recursive: true });
    await writeFile(path.join(dir, 'cat', 'a.jpg'), 'x');
    await writeFile(path.join(dir, 'dog', 'deep', 'b.jpg'), 'yy');
    const listed = await createFileStorage().list(dir);
    expect(listed.map((e) => e.name)).to.deep.equal(['cat/a.jpg', 'dog/deep/b.jpg']);
    expect(listed[1]?.uri).to.equal(path.join(dir, 'dog/deep/b.jpg'));
  });

  it('follows symbolic links to files and ignores dangling ones', async () => {
    await mkdir(path.join(dir, 'src'));
    await mkdir(path.join(dir, 'ds', 'cat'), { recursive: true });
    await writeFile(path.join(dir, 'src', 'photo.jpg'), 'abc');
    await symlink(path.join(dir, 'src', 'photo.jpg'), path.join(dir, 'ds', 'cat', 'linked.jpg'));
    await symlink(path.join(dir, 'src', 'gone.jpg'), path.join(dir, 'ds', 'cat', 'dangling.jpg'));
    const listed = await createFileStorage().list(path.join(dir, 'ds'));
    expect(listed.map((e) => [e.name, e.size])).to.deep.equal([['cat/linked.jpg', 3]]);
  });

  it('lists nothing for an absent prefix and fails reads with NotFound', async () => {
    const s = createFileStorage();
    expect(await s.list(path.join(dir, 'absent'))).to.deep.equal([]);
    const err = await s.read(path.join(dir, 'absent.bin')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StorageError).with.property('reason', 'NotFound');
    const statErr = await s.stat(dir).catch((e: unknown) => e);
    expect(statErr).to.be.instanceOf(StorageError).with.property('reason', 'NotFound');
  });

  it('streams an object and reports a missing one as a StorageError on the stream', async () => {
    const s = createFileStorage();
    await s.write(path.join(dir, 'big.bin'), Buffer.alloc(100_000, 7));
    const chunks: Buffer[] = [];
    for await (const c of s.readStream(path.join(dir, 'big.bin'))) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).to.equal(100_000);
    const err = await (async () => {
      for await (const _ of s.readStream(path.join(dir, 'missing.bin'))) void _;
    })().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StorageError).with.property('reason', 'NotFound');
  });

  it('ifAbsent creates an object only once: of writers racing for one name exactly one wins, the rest get AlreadyExists', async () => {
    const s = createFileStorage();
    const uri = path.join(dir, 'keys', 'key');
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => s.write(uri, `writer ${i}`, { ifAbsent: true })));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(r.reason).to.be.instanceOf(StorageError).with.property('reason', 'AlreadyExists');
    }
    expect((await s.read(uri)).toString()).to.match(/^writer [1-4]$/);
    // No temporary files left behind by the losers.
    expect((await s.list(path.join(dir, 'keys'))).map((e) => e.name)).to.deep.equal(['key']);
  });
});

import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../../shared/clock.js';
import { createFileStorage } from '../../shared/storage/index.js';
import { createLogWriter, type LogWriterOptions } from './log-writer.js';
import { outageStorage, type OutageStorage } from './test-support/outage-storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('log writer (batched JSON Lines on storage)', function () {
  this.timeout(20_000);
  let dir: string;
  let prefix: string;
  let storage: OutageStorage;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-log-'));
    prefix = `${pathToFileURL(dir).href}/predictions`;
    storage = outageStorage(createFileStorage());
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const writer = (o: Partial<LogWriterOptions> = {}) =>
    createLogWriter({ storage, prefix, writerId: 'pod-a-1f2e3d', clock: systemClock(), flushIntervalMs: 50, maxBatchBytes: 1 << 20, maxBufferBytes: 1 << 20, retry: { initialMs: 20, maxMs: 100 }, ...o });
  const objects = async () => (await createFileStorage().list(prefix)).filter((e) => e.name.endsWith('.jsonl'));
  const allRecords = async () => {
    const out: { n: number }[] = [];
    for (const o of await objects()) {
      for (const line of (await createFileStorage().read(o.uri)).toString().split('\n').filter(Boolean)) out.push(JSON.parse(line) as { n: number });
    }
    return out;
  };

  it('writes one object per flush interval, named by date, hour, time, writer and sequence', async () => {
    const w = writer();
    for (let n = 0; n < 5; n++) expect(w.append({ n })).to.equal(true);
    expect(await objects()).to.have.length(0);
    await sleep(200);
    const objs = await objects();
    expect(objs).to.have.length(1);
    expect(objs[0]?.name).to.match(/^\d{4}-\d{2}-\d{2}\/\d{2}\/\d{8}T\d{6}\.\d{3}Z-pod-a-1f2e3d-000000\.jsonl$/);
    expect((await allRecords()).map((r) => r.n)).to.deep.equal([0, 1, 2, 3, 4]);
    w.append({ n: 5 });
    await sleep(200);
    expect((await objects()).map((o) => o.name.slice(-12))).to.deep.equal(['000000.jsonl', '000001.jsonl']);
    expect(w.buffered()).to.deep.equal({ records: 0, bytes: 0 });
  });

  it('seals a batch early once it reaches maxBatchBytes', async () => {
    const w = writer({ flushIntervalMs: 60_000, maxBatchBytes: 100 });
    for (let n = 0; n < 20; n++) w.append({ n, pad: 'x'.repeat(20) });
    await sleep(200);
    expect((await objects()).length).to.be.greaterThan(3);
    const { lostRecords } = await w.close(Date.now() + 2_000);
    expect(lostRecords).to.equal(0);
    expect((await allRecords()).map((r) => r.n)).to.deep.equal([...Array(20).keys()]);
  });

  it('keeps every accepted record through a storage outage and writes each exactly once when storage returns', async () => {
    const w = writer();
    storage.down = true;
    for (let n = 0; n < 30; n++) {
      expect(w.append({ n })).to.equal(true);
      await sleep(5);
    }
    await sleep(300);
    expect(storage.attempts).to.be.greaterThan(1);
    expect(await objects()).to.have.length(0);
    expect(w.buffered().records).to.equal(30);
    storage.down = false;
    await sleep(400);
    expect(w.buffered().records).to.equal(0);
    expect((await allRecords()).map((r) => r.n)).to.deep.equal([...Array(30).keys()]);
  });

  it('refuses records once the buffer is full (the caller counts them), and keeps the ones it accepted', async () => {
    const w = writer({ maxBufferBytes: 200 });
    storage.down = true;
    const accepted: number[] = [];
    for (let n = 0; n < 50; n++) if (w.append({ n, pad: 'y'.repeat(10) })) accepted.push(n);
    expect(accepted.length).to.be.within(3, 10);
    expect(accepted).to.deep.equal([...Array(accepted.length).keys()]);
    expect(w.buffered().bytes).to.be.at.most(200);
    storage.down = false;
    const { lostRecords } = await w.close(Date.now() + 3_000);
    expect(lostRecords).to.equal(0);
    expect((await allRecords()).map((r) => r.n)).to.deep.equal(accepted);
  });

  it('close() writes the open batch at once, and reports what it could not write by its deadline', async () => {
    const w = writer({ flushIntervalMs: 60_000 });
    w.append({ n: 1 });
    w.append({ n: 2 });
    const started = Date.now();
    expect(await w.close(Date.now() + 2_000)).to.deep.equal({ lostRecords: 0 });
    expect(Date.now() - started).to.be.below(1_000);
    expect((await allRecords()).map((r) => r.n)).to.deep.equal([1, 2]);
    expect(w.append({ n: 3 })).to.equal(false);

    const down = writer({ flushIntervalMs: 60_000 });
    storage.down = true;
    down.append({ n: 4 });
    const t = Date.now();
    expect(await down.close(Date.now() + 300)).to.deep.equal({ lostRecords: 1 });
    expect(Date.now() - t).to.be.within(250, 1_000);
  });
});

import { expect } from 'chai';
import { HttpError } from '../shared/errors.js';
import { OverloadedError } from './admission.js';
import { MicroBatcher } from './batcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MicroBatcher', () => {
  it('coalesces concurrent items into one batch, answering each in order', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>({
      maxBatchSize: 8,
      maxWaitMs: 20,
      concurrency: 1,
      maxQueue: 100,
      run: async (items) => {
        batches.push([...items]);
        return items.map((x) => x * 10);
      },
    });
    const out = await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(out).to.deep.equal([10, 20, 30, 40, 50]);
    expect(batches).to.deep.equal([[1, 2, 3, 4, 5]]);
  });

  it('dispatches a full batch at once without waiting for maxWaitMs', async () => {
    const b = new MicroBatcher<number, number>({ maxBatchSize: 2, maxWaitMs: 10_000, concurrency: 1, maxQueue: 100, run: async (items) => items });
    const started = Date.now();
    expect(await Promise.all([b.submit(1), b.submit(2)])).to.deep.equal([1, 2]);
    expect(Date.now() - started).to.be.lessThan(1000);
  });

  it('a lone item waits at most maxWaitMs', async () => {
    const b = new MicroBatcher<number, number>({ maxBatchSize: 8, maxWaitMs: 30, concurrency: 1, maxQueue: 100, run: async (items) => items });
    const started = Date.now();
    await b.submit(1);
    const waited = Date.now() - started;
    expect(waited).to.be.at.least(25).and.lessThan(1000);
  });

  it('while every runner is busy, queued items form the next batches (up to maxBatchSize), and no more than `concurrency` run at once', async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const b = new MicroBatcher<number, number>({
      maxBatchSize: 4,
      maxWaitMs: 1,
      concurrency: 2,
      maxQueue: 100,
      run: async (items) => {
        running++;
        peak = Math.max(peak, running);
        sizes.push(items.length);
        await sleep(30);
        running--;
        return items;
      },
    });
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => b.submit(i)));
    expect(out).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).to.equal(2);
    expect(Math.max(...sizes)).to.equal(4);
    expect(sizes.reduce((a, c) => a + c, 0)).to.equal(20);
    expect(sizes.length).to.be.lessThan(20);
  });

  it('rejects every item of a failed batch and keeps working', async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>({
      maxBatchSize: 4,
      maxWaitMs: 5,
      concurrency: 1,
      maxQueue: 100,
      run: async (items) => {
        if (fail) throw new Error('boom');
        return items;
      },
    });
    const results = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    fail = false;
    expect(await b.submit(3)).to.equal(3);
  });

  it('sheds load with 503 Overloaded beyond maxQueue, and idle() resolves when drained', async () => {
    const b = new MicroBatcher<number, number>({
      maxBatchSize: 1,
      maxWaitMs: 0,
      concurrency: 1,
      maxQueue: 2,
      run: async (items) => {
        await sleep(20);
        return items;
      },
    });
    const accepted = [b.submit(1), b.submit(2), b.submit(3)];
    const err = await b.submit(4).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(503);
    expect((err as HttpError).reason).to.equal('Overloaded');
    expect(err).to.be.instanceOf(OverloadedError);
    expect((err as OverloadedError).stage).to.equal('queue');
    await b.idle();
    expect(b.load).to.equal(0);
    expect(await Promise.all(accepted)).to.deep.equal([1, 2, 3]);
  });
});

import { PassThrough, Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { guardBody, type BodyGuardErrors } from './guard-body.js';

const errors: BodyGuardErrors = {
  idle: (n) => new Error(`idle after ${n} bytes`),
  open: () => new Error('never started'),
  length: (n, expected) => new Error(`ended after ${n} of ${expected ?? '?'} bytes`),
};

async function drain(stream: Readable): Promise<{ data: Buffer; error?: Error; ms: number }> {
  const started = performance.now();
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
    return { data: Buffer.concat(chunks), ms: performance.now() - started };
  } catch (error) {
    return { data: Buffer.concat(chunks), error: error as Error, ms: performance.now() - started };
  }
}

describe('guardBody', () => {
  it('passes the body through and ends when its length is the announced one', async () => {
    const body = Buffer.alloc(100_000, 5);
    const g = guardBody(Readable.from([body.subarray(0, 40_000), body.subarray(40_000)]), { idleMs: 200, errors });
    g.started(body.length);
    const r = await drain(g.stream);
    expect(r.error).to.equal(undefined);
    expect(r.data.equals(body)).to.equal(true);
  });

  it('errors when a started body sends nothing for idleMs while the consumer waits', async () => {
    const source = new PassThrough();
    const g = guardBody(source, { idleMs: 150, errors });
    g.started(10);
    source.write(Buffer.alloc(4, 1));
    const r = await drain(g.stream);
    expect(r.error?.message).to.equal('idle after 4 bytes');
    expect(r.ms).to.be.within(120, 1_000);
    expect(source.destroyed, 'the stalled source is let go').to.equal(true);
  });

  it('never times out a consumer that reads slowly: the source is paused while the buffer is full', async () => {
    const body = Buffer.alloc(128 * 1024, 9);
    const chunks = Array.from({ length: 8 }, (_, i) => body.subarray(i * 16 * 1024, (i + 1) * 16 * 1024));
    const g = guardBody(Readable.from(chunks), { idleMs: 50, errors });
    g.started(body.length);
    const got: Buffer[] = [];
    let error: Error | undefined;
    try {
      // Start late, then take a chunk every 120 ms (more than twice idleMs).
      await delay(150);
      for await (const c of g.stream) {
        got.push(c as Buffer);
        await delay(120);
      }
    } catch (e) {
      error = e as Error;
    }
    expect(error).to.equal(undefined);
    expect(Buffer.concat(got).equals(body)).to.equal(true);
  });

  it('errors instead of ending when the body ends or closes short of its length', async () => {
    const short = guardBody(Readable.from([Buffer.alloc(60)]), { idleMs: 1_000, errors });
    short.started(100);
    const r = await drain(short.stream);
    expect(r.error?.message).to.equal('ended after 60 of 100 bytes');
    const source = new PassThrough();
    const closed = guardBody(source, { idleMs: 1_000, errors });
    closed.started(100);
    source.write(Buffer.alloc(30));
    setTimeout(() => source.destroy(), 20);
    const c = await drain(closed.stream);
    expect(c.error?.message).to.equal('ended after 30 of 100 bytes');
  });

  it('bounds the wait for the body to start by openMs, and maps the source error', async () => {
    const never = guardBody(new PassThrough(), { idleMs: 50, openMs: 120, errors });
    const r = await drain(never.stream);
    expect(r.error?.message).to.equal('never started');
    expect(r.ms).to.be.within(100, 1_000);
    const source = new PassThrough();
    const mapped = guardBody(source, { idleMs: 1_000, errors: { ...errors, source: (e) => new Error(`mapped: ${(e as Error).message}`) } });
    setTimeout(() => source.destroy(new Error('reset')), 20);
    expect((await drain(mapped.stream)).error?.message).to.equal('mapped: reset');
  });

  it('does not subscribe to the source before the first read, and destroys it when destroyed', async () => {
    const source = new PassThrough();
    const g = guardBody(source, { idleMs: 50, errors });
    await delay(100);
    expect(source.listenerCount('data')).to.equal(0);
    g.stream.destroy();
    await delay(10);
    expect(source.destroyed).to.equal(true);
  });
});

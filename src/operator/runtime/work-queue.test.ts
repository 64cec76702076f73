import { expect } from 'chai';
import { createManualClock } from '../../shared/clock.js';
import { exponentialBackoffLimiter } from './rate-limiter.js';
import type { WorkQueueMetrics } from '../metrics.js';
import { createWorkQueue } from './work-queue.js';

function setup() {
  const clock = createManualClock(1_000);
  const depths: number[] = [];
  const seen = { adds: 0, retries: 0, waited: [] as number[], worked: [] as number[] };
  const metrics: WorkQueueMetrics = {
    add: () => seen.adds++,
    taken: (s) => seen.waited.push(s),
    done: (s) => seen.worked.push(s),
    retry: () => seen.retries++,
    depth: (d) => depths.push(d),
  };
  const queue = createWorkQueue({ clock, rateLimiter: exponentialBackoffLimiter({ baseMs: 5, maxMs: 1_000_000 }), metrics });
  return { clock, queue, depths, seen };
}

describe('work queue', () => {
  it('collapses duplicates of a waiting key and keeps FIFO order', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).to.equal(2);
    expect(await queue.get()).to.equal('ns/a');
    expect(await queue.get()).to.equal('ns/b');
    expect(queue.len()).to.equal(0);
  });

  it('never hands out a key twice at once; a re-add while processing is deferred until done', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    const key = await queue.get();
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.len(), 're-add while processing must not be queued').to.equal(0);
    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).to.equal(undefined);
    queue.done(key as string);
    await Promise.resolve();
    expect(second).to.equal('ns/a');
    queue.done('ns/a');
    expect(queue.len()).to.equal(0);
  });

  it('a done key that was not re-added is not queued again', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.done((await queue.get()) as string);
    expect(queue.len()).to.equal(0);
  });

  it('backs off per key exponentially and forget resets it', async () => {
    const { queue, clock } = setup();
    queue.addRateLimited('ns/a'); // 5 ms
    expect(queue.len()).to.equal(0);
    clock.advance(4);
    expect(queue.len()).to.equal(0);
    clock.advance(1);
    expect(queue.len()).to.equal(1);
    queue.done((await queue.get()) as string);
    queue.addRateLimited('ns/a'); // 10 ms
    clock.advance(9);
    expect(queue.len()).to.equal(0);
    clock.advance(1);
    expect(queue.len()).to.equal(1);
    expect(queue.numRequeues('ns/a')).to.equal(2);
    queue.forget('ns/a');
    expect(queue.numRequeues('ns/a')).to.equal(0);
    queue.done((await queue.get()) as string);
    queue.addRateLimited('ns/a'); // back to 5 ms
    clock.advance(5);
    expect(queue.len()).to.equal(1);
  });

  it('addAfter keeps the earliest of several waits for one key', () => {
    const { queue, clock } = setup();
    queue.addAfter('ns/a', 1_000);
    queue.addAfter('ns/a', 100);
    queue.addAfter('ns/a', 5_000);
    clock.advance(100);
    expect(queue.len()).to.equal(1);
    clock.advance(10_000);
    expect(queue.len(), 'the later waits collapse into the earliest').to.equal(1);
    expect(clock.pending()).to.equal(0);
  });

  it('reports its depth', async () => {
    const { queue, depths } = setup();
    queue.add('a/1');
    queue.add('a/2');
    await queue.get();
    expect(depths).to.deep.equal([1, 2, 1]);
  });

  it('shutDown wakes idle workers, drops waiting keys and waits for keys in flight', async () => {
    const { queue, clock } = setup();
    queue.add('ns/a');
    const held = (await queue.get()) as string;
    queue.add('ns/b');
    queue.addAfter('ns/c', 50);
    let finished = false;
    const down = queue.shutDown().then(() => (finished = true));
    expect(await queue.get()).to.equal(undefined);
    queue.add('ns/d');
    expect(queue.len()).to.equal(0);
    expect(clock.pending()).to.equal(0);
    await Promise.resolve();
    expect(finished).to.equal(false);
    queue.done(held);
    await down;
    expect(finished).to.equal(true);
  });

  it('an idle worker waiting in get() receives a key added later', async () => {
    const { queue } = setup();
    const pending = queue.get();
    queue.add('ns/late');
    expect(await pending).to.equal('ns/late');
    queue.add('ns/late');
    expect(queue.len(), 'in flight: deferred').to.equal(0);
  });

  it('reports as client-go\'s workqueue metrics: adds (not duplicates), time queued, time worked, retries', async () => {
    const { queue, clock, seen } = setup();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    expect(seen.adds, 'a duplicate of a waiting key is no add').to.equal(2);
    clock.advance(2_000);
    const a = (await queue.get()) as string;
    clock.advance(500);
    queue.done(a);
    expect(seen.waited).to.deep.equal([2]);
    expect(seen.worked).to.deep.equal([0.5]);
    queue.addRateLimited('ns/c');
    expect(seen.retries).to.equal(1);
  });
});

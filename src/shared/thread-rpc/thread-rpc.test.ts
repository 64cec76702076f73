import { expect } from 'chai';
import type { EchoCalls, EchoInit } from '../../../test/fixtures/echo-thread.js';
import { transferring } from './protocol.js';
import { startThread, threadModule, type Thread } from './start-thread.js';

const entry = threadModule(new URL('../../../test/fixtures/echo-thread.ts', import.meta.url).href, 'echo-thread');
const start = (init: EchoInit, startTimeoutMs?: number) =>
  startThread<EchoCalls, { greeting: string }, EchoInit>({ entry, init, name: 'echo thread', ...(startTimeoutMs !== undefined ? { startTimeoutMs } : {}) });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('thread RPC', function () {
  this.timeout(30_000);
  let thread: Thread<EchoCalls, { greeting: string }> | undefined;
  afterEach(async () => {
    await thread?.terminate();
    thread = undefined;
  });

  it('reports what the thread started with and answers overlapping calls each with its own value', async () => {
    thread = await start({ greeting: 'hello' });
    expect(thread.info).to.deep.equal({ greeting: 'hello' });
    const slow = thread.call('echo', { value: 'slow', delayMs: 200 });
    const fast = thread.call('echo', { value: 'fast', delayMs: 0 });
    expect(thread.inFlight).to.equal(2);
    expect(await fast).to.equal('fast');
    expect(await slow).to.equal('slow');
    expect(thread.inFlight).to.equal(0);
  });

  it('moves transferred buffers both ways instead of copying them', async () => {
    thread = await start({ greeting: 'hi' });
    const values = Float64Array.from([1, 2, 3]);
    const doubled = await thread.call('double', transferring(values, [values.buffer]));
    expect(Array.from(doubled)).to.deep.equal([2, 4, 6]);
    expect(values.byteLength).to.equal(0); // moved to the thread
    const kept = new ArrayBuffer(16);
    expect(await thread.call('byteLength', kept)).to.equal(16);
    expect(kept.byteLength).to.equal(16); // copied
  });

  it('rejects a call whose handler throws with its message, and goes on answering', async () => {
    thread = await start({ greeting: 'hi' });
    const err = await rejection(thread.call('fail', 'bad input'));
    expect(err.message).to.equal('bad input');
    expect(err.stack).to.include('echo-thread');
    expect(await thread.call('echo', { value: 'still here', delayMs: 0 })).to.equal('still here');
  });

  it('fails start-up with the reason the thread gave, or after the start timeout', async () => {
    expect((await rejection(start({ greeting: 'x', failStart: true }))).message).to.equal('echo thread failed to start: cannot start');
    expect((await rejection(start({ greeting: 'x', startDelayMs: 5_000 }, 300))).message).to.equal('echo thread did not become ready within 300 ms');
  });

  it('rejects calls in flight and later ones when the thread exits, and says so once', async () => {
    thread = await start({ greeting: 'hi' });
    const exits: Error[] = [];
    thread.onExit((err) => exits.push(err));
    const inFlight = thread.call('echo', { value: 'never', delayMs: 5_000 });
    const exit = thread.call('exit', 7);
    expect((await rejection(inFlight)).message).to.equal('echo thread exited with code 7');
    expect((await rejection(exit)).message).to.equal('echo thread exited with code 7');
    expect((await rejection(thread.call('echo', { value: 'late', delayMs: 0 }))).message).to.equal('echo thread exited with code 7');
    expect(exits.map((e) => e.message)).to.deep.equal(['echo thread exited with code 7']);
  });

  it('terminate() rejects calls in flight without calling the exit listeners', async () => {
    thread = await start({ greeting: 'hi' });
    const exits: Error[] = [];
    thread.onExit((err) => exits.push(err));
    const inFlight = thread.call('echo', { value: 'never', delayMs: 5_000 });
    await thread.terminate();
    expect((await rejection(inFlight)).message).to.match(/exited with code/);
    expect(exits).to.deep.equal([]);
  });
});

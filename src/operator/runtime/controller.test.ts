import { expect } from 'chai';
import { pino } from 'pino';
import { TerminalError } from '../../shared/errors.js';
import { createManualClock } from '../../shared/clock.js';
import { createController, type Request } from './controller.js';
import { exponentialBackoffLimiter } from './rate-limiter.js';

const quiet = pino({ level: 'silent' });
const tick = () => new Promise((r) => setImmediate(r));

describe('controller', () => {
  it('never reconciles one key twice at once, and reconciles again after a change during a reconcile', async () => {
    const clock = createManualClock();
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    let release: () => void = () => {};
    const c = createController({
      name: 't',
      clock,
      logger: quiet,
      workers: 4,
      reconcile: async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => (release = r));
        active--;
      },
    });
    c.start();
    c.enqueue('ns', 'a');
    await tick();
    c.enqueue('ns', 'a');
    c.enqueue('ns', 'a');
    await tick();
    expect(calls).to.equal(1);
    release();
    await tick();
    expect(calls, 'the re-add during the reconcile runs once afterwards').to.equal(2);
    release();
    await tick();
    expect(maxActive).to.equal(1);
    await c.stop();
  });

  it('retries errors with backoff, requeues after the asked time, and drops terminal errors', async () => {
    const clock = createManualClock();
    const seen: string[] = [];
    const results: string[] = [];
    let failures = 2;
    const c = createController({
      name: 't',
      clock,
      logger: quiet,
      rateLimiter: exponentialBackoffLimiter({ baseMs: 100 }),
      observe: (r) => results.push(r),
      reconcile: async (req: Request) => {
        seen.push(req.name);
        if (req.name === 'flaky' && failures-- > 0) throw new Error('transient');
        if (req.name === 'bad') throw new TerminalError('InvalidSpec', 'no');
        if (req.name === 'waiting') return { requeueAfterMs: 1_000 };
        return undefined;
      },
    });
    c.start();
    c.enqueue('ns', 'flaky');
    c.enqueue('ns', 'bad');
    await tick();
    expect(seen).to.deep.equal(['flaky', 'bad']);
    clock.advance(99);
    await tick();
    expect(seen.length).to.equal(2);
    clock.advance(1);
    await tick();
    expect(seen.length, 'first retry after 100 ms').to.equal(3);
    clock.advance(200);
    await tick();
    expect(seen.filter((s) => s === 'flaky').length, 'second retry after 200 ms more').to.equal(3);
    clock.advance(10_000);
    await tick();
    expect(seen.filter((s) => s === 'bad').length, 'terminal errors are not retried').to.equal(1);
    expect(results).to.deep.equal(['error', 'terminal', 'error', 'success']);
    c.enqueue('ns', 'waiting');
    await tick();
    clock.advance(999);
    await tick();
    expect(seen.filter((s) => s === 'waiting').length).to.equal(1);
    clock.advance(1);
    await tick();
    expect(seen.filter((s) => s === 'waiting').length).to.equal(2);
    await c.stop();
  });
});

import { expect } from 'chai';
import { Registry } from 'prom-client';
import { Admission, OverloadedError } from './admission.js';
import { ServeMetrics } from './metrics.js';
import type { ServeContext } from './routes/common.js';

function gauge(text: string): number {
  return Number(text.match(/^kennel_serve_requests_in_flight\{[^}]*\} (\S+)$/m)?.[1]);
}

describe('Admission (load shedding at the door)', () => {
  it('admits up to maxInFlight requests, refuses the next with OverloadedError before running it, and admits again once one finishes', async () => {
    const registry = new Registry();
    const admission = new Admission(2, new ServeMetrics({ registry, model: 'pets', version: 'v1' }));
    const gate = admission.gate('predict');
    const releases: (() => void)[] = [];
    const hold = () => new Promise<void>((resolve) => releases.push(resolve));
    const ctx = () => ({ state: {} }) as unknown as ServeContext;
    const first = ctx();
    const running = [gate(first, hold), gate(ctx(), hold)];
    expect(first.state.route).to.equal('predict');
    expect(admission.inFlight).to.equal(2);
    expect(gauge(await registry.metrics())).to.equal(2);
    let ran = false;
    const err = await gate(ctx(), async () => {
      ran = true;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ran).to.equal(false);
    expect(err).to.be.instanceOf(OverloadedError);
    expect((err as OverloadedError).status).to.equal(503);
    expect((err as OverloadedError).stage).to.equal('admission');
    expect((err as OverloadedError).retryAfterSeconds).to.be.greaterThan(0);
    releases.shift()?.();
    await running[0];
    expect(admission.inFlight).to.equal(1);
    await gate(ctx(), async () => undefined);
    releases.shift()?.();
    await running[1];
    expect(admission.inFlight).to.equal(0);
    expect(gauge(await registry.metrics())).to.equal(0);
  });

  it('releases the slot when the request fails', async () => {
    const admission = new Admission(1, new ServeMetrics({ registry: new Registry(), model: 'pets', version: 'v1' }));
    const gate = admission.gate('v2_infer');
    await gate({ state: {} } as unknown as ServeContext, async () => {
      throw new Error('boom');
    }).catch(() => undefined);
    expect(admission.inFlight).to.equal(0);
  });

  it('rejects a limit below 1', () => {
    expect(() => new Admission(0, new ServeMetrics({ registry: new Registry(), model: 'pets', version: 'v1' }))).to.throw(RangeError);
  });
});

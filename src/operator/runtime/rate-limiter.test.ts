import { expect } from 'chai';
import { createManualClock } from '../../shared/clock.js';
import { defaultControllerRateLimiter, exponentialBackoffLimiter, tokenBucketLimiter } from './rate-limiter.js';

describe('rate limiters', () => {
  it('exponential backoff doubles from the base up to the cap, per key', () => {
    const l = exponentialBackoffLimiter({ baseMs: 5, maxMs: 1_000_000 });
    const delays = Array.from({ length: 4 }, () => l.when('a'));
    expect(delays).to.deep.equal([5, 10, 20, 40]);
    expect(l.when('b')).to.equal(5);
    for (let i = 0; i < 100; i++) l.when('a');
    expect(l.when('a')).to.equal(1_000_000);
    l.forget('a');
    expect(l.when('a')).to.equal(5);
  });

  it('the token bucket allows a burst, then spaces requests at qps, and refills with time', () => {
    const clock = createManualClock(0);
    const l = tokenBucketLimiter({ clock, qps: 10, burst: 3 });
    expect([l.when('x'), l.when('y'), l.when('z')]).to.deep.equal([0, 0, 0]);
    expect(l.when('w')).to.equal(100);
    expect(l.when('v')).to.equal(200);
    clock.advance(1_000);
    expect(l.when('u')).to.equal(0);
  });

  it('the default controller limiter takes the longer of both', () => {
    const clock = createManualClock(0);
    const l = defaultControllerRateLimiter(clock);
    expect(l.when('k')).to.equal(5);
    expect(l.when('k')).to.equal(10);
    for (let i = 0; i < 200; i++) l.when(`other-${i}`);
    expect(l.when('k'), 'bucket exhausted by a storm across keys').to.be.greaterThan(1_000);
  });
});

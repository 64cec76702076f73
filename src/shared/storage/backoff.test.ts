import { expect } from 'chai';
import { retryDelayMs, retryWithBackoff, type BackoffPolicy } from './backoff.js';

const policy: BackoffPolicy = { maxRetries: 3, retryDelayMultiplier: 2, maxRetryDelay: 5 };

describe('backoff', () => {
  it('delays multiplier^n seconds plus up to 1 s of jitter, capped at maxRetryDelay', () => {
    expect(retryDelayMs(1, policy, 0)).to.equal(2000);
    expect(retryDelayMs(2, policy, 0.5)).to.equal(4500);
    expect(retryDelayMs(3, policy, 0)).to.equal(5000);
    expect(retryDelayMs(1, policy, 0.9999)).to.equal(2999);
  });

  it('retries retryable errors up to maxRetries, then throws the last one', async () => {
    const seen: number[] = [];
    const retries: number[] = [];
    const err = await retryWithBackoff(
      (n) => {
        seen.push(n);
        return Promise.reject(new Error(`attempt ${n}`));
      },
      { policy, isRetryable: () => true, delayMs: () => 1, onRetry: (_e, retry) => retries.push(retry) },
    ).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('attempt 3');
    expect(seen).to.deep.equal([0, 1, 2, 3]);
    expect(retries).to.deep.equal([1, 2, 3]);
  });

  it('returns the first success, and does not retry an error that is not retryable', async () => {
    let calls = 0;
    expect(await retryWithBackoff((n) => (n < 2 ? Promise.reject(new Error('flaky')) : Promise.resolve('ok')), { policy, isRetryable: () => true, delayMs: () => 1 })).to.equal('ok');
    const err = await retryWithBackoff(
      () => {
        calls++;
        return Promise.reject(new Error('denied'));
      },
      { policy, isRetryable: (e) => (e as Error).message !== 'denied', delayMs: () => 1 },
    ).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('denied');
    expect(calls).to.equal(1);
  });

  it('asks delayMs for each retry with the error that caused it', async () => {
    const asked: string[] = [];
    await retryWithBackoff((n) => (n < 2 ? Promise.reject(new Error(`e${n}`)) : Promise.resolve(n)), {
      policy,
      isRetryable: () => true,
      delayMs: (retry, err) => {
        asked.push(`${retry}:${(err as Error).message}`);
        return 1;
      },
    });
    expect(asked).to.deep.equal(['1:e0', '2:e1']);
  });

  it('stops waiting and retrying when its signal aborts', async () => {
    const ac = new AbortController();
    let calls = 0;
    const started = performance.now();
    setTimeout(() => ac.abort(), 50);
    const err = await retryWithBackoff(
      () => {
        calls++;
        return Promise.reject(new Error('again'));
      },
      { policy, isRetryable: () => true, delayMs: () => 10_000, signal: ac.signal },
    ).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('again');
    expect(calls).to.equal(1);
    expect(performance.now() - started).to.be.below(2_000);
  });
});

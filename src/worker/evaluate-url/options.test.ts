import { expect } from 'chai';
import { EvaluateUrlUsageError, parseEvaluateUrlFlags } from './options.js';

describe('parseEvaluateUrlFlags', () => {
  it('applies defaults and drops the trailing slash of the URL', () => {
    const o = parseEvaluateUrlFlags({ url: 'http://10.0.0.5:8080/', data: 'gs://b/photos' });
    expect(o).to.deep.equal({ url: 'http://10.0.0.5:8080', data: 'gs://b/photos', concurrency: 8, timeoutMs: 30_000, maxErrorRate: 0, json: false });
    expect(Object.isFrozen(o)).to.equal(true);
  });

  it('reads thresholds, limit, classes and json', () => {
    const o = parseEvaluateUrlFlags({ url: 'https://x', data: '/p', minAccuracy: '0.8', maxErrorRate: '0.01', limit: '50', classes: 'cat, dog', json: true, concurrency: '4', timeoutMs: '500' });
    expect(o).to.include({ minAccuracy: 0.8, maxErrorRate: 0.01, limitPerClass: 50, json: true, concurrency: 4, timeoutMs: 500 });
    expect(o.classes).to.deep.equal(['cat', 'dog']);
  });

  const bad: [string, Record<string, string | boolean>, RegExp][] = [
    ['no url', { data: '/p' }, /--url/],
    ['a non-http url', { url: 'ftp://x', data: '/p' }, /--url must be an http/],
    ['no data', { url: 'http://x' }, /--data/],
    ['both --model and --url', { url: 'http://x', data: '/p', model: 'gs://m' }, /either --model .* or --url/],
    ['accuracy above 1', { url: 'http://x', data: '/p', minAccuracy: '1.5' }, /--min-accuracy/],
    ['a word for a number', { url: 'http://x', data: '/p', concurrency: 'many' }, /--concurrency must be a number/],
    ['zero concurrency', { url: 'http://x', data: '/p', concurrency: '0' }, /--concurrency/],
    ['a fractional limit', { url: 'http://x', data: '/p', limit: '2.5' }, /--limit/],
    ['one class', { url: 'http://x', data: '/p', classes: 'cat' }, /--classes/],
  ];
  for (const [what, flags, message] of bad) {
    it(`rejects ${what} with a message naming the flag`, () => {
      expect(() => parseEvaluateUrlFlags(flags)).to.throw(EvaluateUrlUsageError, message);
    });
  }
});

import { expect } from 'chai';
import { HttpError } from '../shared/errors.js';
import { FeedbackStore } from './feedback-store.js';

describe('FeedbackStore', () => {
  it('judges feedback once per prediction', () => {
    const s = new FeedbackStore({ capacity: 10, ttlMs: 60_000 });
    s.remember('a', 'cat');
    expect(s.judge('a', 'cat')).to.deep.equal({ predicted: 'cat', correct: true });
    expect(() => s.judge('a', 'cat')).to.throw(HttpError).with.property('status', 409);
    s.remember('b', 'cat');
    expect(s.judge('b', 'dog')).to.deep.equal({ predicted: 'cat', correct: false });
  });

  it('is bounded: the oldest predictions are forgotten (404)', () => {
    const s = new FeedbackStore({ capacity: 3, ttlMs: 60_000 });
    for (const id of ['1', '2', '3', '4', '5']) s.remember(id, 'dog');
    expect(s.size).to.equal(3);
    expect(() => s.judge('1', 'dog')).to.throw(HttpError).with.property('status', 404);
    expect(s.judge('5', 'dog').correct).to.equal(true);
  });
});

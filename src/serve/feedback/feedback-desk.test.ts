import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { HttpError } from '../../shared/errors.js';
import type { FeedbackRecord } from '../../shared/prediction-log/records.js';
import { FeedbackDesk, type FeedbackSink } from './feedback-desk.js';
import { createPredictionIdSigner, newPredictionNonce } from './prediction-id.js';

const identity = { name: 'pets', version: '4' };
const classes = ['cat', 'dog'];

function sink(capacity = Infinity): FeedbackSink & { records: Omit<FeedbackRecord, 'kind' | 'writer'>[] } {
  const records: Omit<FeedbackRecord, 'kind' | 'writer'>[] = [];
  return {
    writerId: 'w',
    records,
    recordFeedback(r) {
      if (records.length >= capacity) return false;
      records.push(r);
      return true;
    },
  };
}

describe('feedback desk', () => {
  let now = 1_700_000_000_000;
  const key = randomBytes(32);
  const desk = () => {
    const d = new FeedbackDesk({ maxAgeMs: 3_600_000, rememberCapacity: 100, now: () => now });
    d.setSigner(createPredictionIdSigner(key));
    return d;
  };
  const claims = (over: Partial<{ model: string; version: string; label: string; time: number; unsure: boolean }> = {}) => ({
    id: newPredictionNonce(),
    model: 'pets',
    version: '3',
    label: 'cat',
    time: Math.floor(now / 1000),
    sha256: 'b'.repeat(64),
    ...over,
  });
  const reasonOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      expect(err).to.be.instanceOf(HttpError);
      return `${(err as HttpError).status} ${(err as HttpError).reason}`;
    }
    return undefined;
  };

  it('judges a prediction made by another replica or version, attributes it to that version, and logs it', () => {
    const issuer = desk();
    const id = issuer.issue(claims({ version: '3', label: 'cat' }));
    const s = sink();
    // A different desk (another replica, serving version 4) with the same key.
    const verdict = desk().accept({ predictionId: id, label: 'dog' }, { identity, classes, sink: s });
    expect(verdict).to.deep.include({ label: 'dog', correct: false });
    expect(verdict.claims.version).to.equal('3');
    expect(s.records).to.have.length(1);
    expect(s.records[0]).to.deep.include({ version: '3', servedVersion: '4', predicted: 'cat', label: 'dog', correct: false, image: { sha256: 'b'.repeat(64) } });
  });

  it('judges feedback on an unsure answer (label null) against the top class, and logs that it was unsure', () => {
    const d = desk();
    const s = sink();
    const right = d.accept({ predictionId: d.issue(claims({ label: 'dog', unsure: true })), label: 'dog' }, { identity, classes, sink: s });
    expect(right).to.deep.include({ correct: true });
    expect(right.claims.unsure).to.equal(true);
    d.accept({ predictionId: d.issue(claims({ label: 'dog' })), label: 'cat' }, { identity, classes, sink: s });
    expect(s.records[0]).to.deep.include({ predicted: 'dog', unsure: true, correct: true });
    expect(s.records[1]).to.deep.include({ predicted: 'dog', correct: false });
    expect(s.records[1]).to.not.have.property('unsure');
  });

  it('refuses what it cannot take, with the status and reason a client can act on', () => {
    const d = desk();
    const good = d.issue(claims());
    expect(reasonOf(() => d.accept({ predictionId: 'nonsense', label: 'cat' }, { identity, classes }))).to.equal('400 InvalidPredictionId');
    expect(reasonOf(() => d.accept({ predictionId: d.issue(claims({ model: 'birds' })), label: 'cat' }, { identity, classes }))).to.equal('400 InvalidPredictionId');
    expect(reasonOf(() => d.accept({ predictionId: d.issue(claims({ time: Math.floor(now / 1000) - 7200 })), label: 'cat' }, { identity, classes }))).to.equal('410 PredictionExpired');
    expect(reasonOf(() => d.accept({ predictionId: good, label: 'horse' }, { identity, classes }))).to.equal('400 UnknownLabel');
    expect(reasonOf(() => d.accept({ predictionId: good, label: 'cat' }, { identity, classes }))).to.equal(undefined);
    expect(reasonOf(() => d.accept({ predictionId: good, label: 'dog' }, { identity, classes }))).to.equal('409 FeedbackAlreadyRecorded');
    const unready = new FeedbackDesk({ maxAgeMs: 1, rememberCapacity: 1 });
    expect(unready.ready).to.equal(false);
    expect(reasonOf(() => unready.issue(claims()))).to.equal('503 NotReady');
  });

  it('acknowledges nothing the log cannot keep: 503 FeedbackLogFull, and the same feedback is accepted once the log has room', () => {
    const d = desk();
    const id = d.issue(claims());
    const s = sink(0);
    expect(reasonOf(() => d.accept({ predictionId: id, label: 'dog' }, { identity, classes, sink: s }))).to.equal('503 FeedbackLogFull');
    const roomy = sink();
    expect(d.accept({ predictionId: id, label: 'dog' }, { identity, classes, sink: roomy }).correct).to.equal(false);
    expect(roomy.records).to.have.length(1);
    now += 1000;
  });
});

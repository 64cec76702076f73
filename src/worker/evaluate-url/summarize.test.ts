import { expect } from 'chai';
import { percentile, summarize, verdict, type PhotoResult, type PredictOutcome } from './summarize.js';

const ok = (label: string | null, latencyMs: number, version = '1', top?: string): PredictOutcome => ({ ok: true, label, confidence: 0.9, latencyMs, version, ...(top !== undefined ? { top } : {}) });
const fail = (kind: string): PredictOutcome => ({ ok: false, kind, message: kind, latencyMs: 1 });

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).to.equal(50);
    expect(percentile(xs, 95)).to.equal(95);
    expect(percentile(xs, 99)).to.equal(99);
    expect(percentile([7], 99)).to.equal(7);
    expect(percentile([], 50)).to.equal(0);
  });
});

describe('summarize with unsure answers (label null)', () => {
  it('counts them as answered but not correct, and gives the accuracy of the sure ones', () => {
    const results: PhotoResult[] = [
      { name: 'cat/1', expected: 'cat', outcome: ok('cat', 10) },
      { name: 'cat/2', expected: 'cat', outcome: ok(null, 10, '1', 'cat') },
      { name: 'dog/1', expected: 'dog', outcome: ok('cat', 10) },
      { name: 'dog/2', expected: 'dog', outcome: ok('dog', 10) },
    ];
    const r = summarize({ url: 'u', data: 'd', classes: ['cat', 'dog'], results, elapsedMs: 1 });
    expect(r).to.include({ answered: 4, correct: 2, unsure: 1, accuracy: 0.5, accuracyWhenSure: 0.6667, topAccuracy: 0.75, unknownLabels: 0 });
    expect(r.confusion).to.deep.equal([[1, 0], [1, 1]]);
  });
});

describe('summarize', () => {
  // 4 cats: 3 right, 1 called dog; 3 dogs: 2 right, 1 failed (503); 1 cat timed out.
  const results: PhotoResult[] = [
    { name: 'cat/1', expected: 'cat', outcome: ok('cat', 10) },
    { name: 'cat/2', expected: 'cat', outcome: ok('cat', 20) },
    { name: 'cat/3', expected: 'cat', outcome: ok('cat', 30, '2') },
    { name: 'cat/4', expected: 'cat', outcome: ok('dog', 40) },
    { name: 'cat/5', expected: 'cat', outcome: fail('timeout') },
    { name: 'dog/1', expected: 'dog', outcome: ok('dog', 50) },
    { name: 'dog/2', expected: 'dog', outcome: ok('dog', 60) },
    { name: 'dog/3', expected: 'dog', outcome: fail('HTTP 503 NotReady') },
  ];
  const report = summarize({ url: 'http://svc', data: '/photos', classes: ['cat', 'dog'], results, elapsedMs: 1234.4 });

  it('counts accuracy over answered photos and failures by kind', () => {
    expect(report).to.include({ total: 8, answered: 6, correct: 5, failed: 2, errorRate: 0.25, unknownLabels: 0, elapsedMs: 1234 });
    expect(report.accuracy).to.equal(0.8333);
    expect(report.errors).to.deep.equal({ timeout: 1, 'HTTP 503 NotReady': 1 });
    expect(report.versions).to.deep.equal({ '1': 5, '2': 1 });
  });

  it('computes the confusion matrix and per-class precision, recall and F1', () => {
    expect(report.confusion).to.deep.equal([
      [3, 1],
      [0, 2],
    ]);
    expect(report.perClass[0]).to.deep.equal({ class: 'cat', support: 4, precision: 1, recall: 0.75, f1: 0.8571 });
    expect(report.perClass[1]).to.deep.equal({ class: 'dog', support: 2, precision: 0.6667, recall: 1, f1: 0.8 });
  });

  it('takes latency percentiles over answered requests only', () => {
    expect(report.latencyMs).to.deep.equal({ p50: 30, p95: 60, p99: 60, mean: 35, max: 60 });
  });

  it('counts answers outside the dataset classes', () => {
    const r = summarize({ url: 'u', data: 'd', classes: ['cat', 'dog'], results: [{ name: 'cat/1', expected: 'cat', outcome: ok('fox', 1) }], elapsedMs: 0 });
    expect(r.unknownLabels).to.equal(1);
    expect(r.accuracy).to.equal(0);
    expect(r.confusion).to.deep.equal([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('verdict', () => {
  const base = summarize({ url: 'u', data: 'd', classes: ['a', 'b'], results: [{ name: 'a/1', expected: 'a', outcome: ok('a', 1) }, { name: 'b/1', expected: 'b', outcome: fail('timeout') }], elapsedMs: 0 });

  it('fails when the error rate is above the threshold, saying so', () => {
    const v = verdict(base, { maxErrorRate: 0.1 });
    expect(v.pass).to.equal(false);
    expect(v.reasons[0]).to.match(/error rate 0\.5 \(1 of 2\) is above --max-error-rate 0\.1/);
  });

  it('fails when accuracy is below --min-accuracy and passes otherwise', () => {
    expect(verdict(base, { maxErrorRate: 0.5, minAccuracy: 1 }).pass).to.equal(true);
    const none = summarize({ url: 'u', data: 'd', classes: ['a', 'b'], results: [{ name: 'a/1', expected: 'a', outcome: ok('b', 1) }], elapsedMs: 0 });
    const v = verdict(none, { maxErrorRate: 0, minAccuracy: 0.5 });
    expect(v).to.deep.equal({ pass: false, reasons: ['accuracy 0 (0 of 1 answered) is below --min-accuracy 0.5'] });
  });

  it('fails an empty evaluation', () => {
    expect(verdict(summarize({ url: 'u', data: 'd', classes: ['a', 'b'], results: [], elapsedMs: 0 }), { maxErrorRate: 1 }).pass).to.equal(false);
  });
});

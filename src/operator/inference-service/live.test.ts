import { expect } from 'chai';
import { exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import { computeLiveQuality, tenBins, totalVariation } from './live.js';
import { parseLiveCounters, ZERO_COUNTERS, type LiveCounters } from './live-metrics.js';
import { addScrape, windowCounters, type Scrape } from './live-window.js';

const BOUNDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/** A pod's /metrics page as kennel serve writes it (the series live quality reads, and others). */
function page(o: { version: string; confidences: number[]; correct?: number; wrong?: number; feedbackFor?: string }): string {
  const lines: string[] = [];
  const base = `model="pets",version="${o.version}"`;
  for (const le of [...BOUNDS.map(String), '+Inf']) {
    const n = o.confidences.filter((c) => le === '+Inf' || c <= Number(le)).length;
    lines.push(`kennel_serve_prediction_confidence_bucket{${base},le="${le}"} ${n}`);
  }
  lines.push(`kennel_serve_prediction_confidence_sum{${base}} ${o.confidences.reduce((a, b) => a + b, 0)}`);
  lines.push(`kennel_serve_prediction_confidence_count{${base}} ${o.confidences.length}`);
  const fb = `model="pets",version="${o.feedbackFor ?? o.version}"`;
  lines.push(`kennel_serve_feedback_total{${fb},class="cat",outcome="correct"} ${o.correct ?? 0}`);
  lines.push(`kennel_serve_feedback_total{${fb},class="cat",outcome="wrong"} ${o.wrong ?? 0}`);
  lines.push(`kennel_serve_requests_total{${base},route="predict",status="200"} ${o.confidences.length}`);
  return `# HELP something\n${lines.join('\n')}\n`;
}

describe('live quality of the serving version', () => {
  it('reads one version\'s confidence histogram and the feedback on its predictions from any pod', () => {
    const v3 = parseLiveCounters(page({ version: '3', confidences: [0.55, 0.97, 0.99], correct: 2, wrong: 1 }), '3');
    expect(v3).to.deep.include({ confidenceCount: 3, feedbackCorrect: 2, feedbackWrong: 1 });
    expect(v3.confidenceSum).to.be.closeTo(2.51, 1e-9);
    expect(v3.confidenceBuckets.get(0.6)).to.equal(1);
    // A pod of version 4 holding feedback on version 3's predictions.
    const fromV4 = parseLiveCounters(page({ version: '4', confidences: [0.9], correct: 5, feedbackFor: '3' }), '3');
    expect(fromV4).to.deep.include({ confidenceCount: 0, feedbackCorrect: 5 });
  });

  it('sums per pod over the window: pods that left still count, new pods count from zero, a restart never subtracts', () => {
    const c = (correct: number, wrong: number): LiveCounters => ({ ...ZERO_COUNTERS, feedbackCorrect: correct, feedbackWrong: wrong });
    let h: Scrape[] = [];
    h = addScrape(h, { at: 0, readings: [{ pod: 'a', counters: c(10, 0) }, { pod: 'b', counters: c(5, 5) }] }, 60_000);
    expect(windowCounters(h, 60_000)).to.deep.include({ coveredMs: 0 });
    h = addScrape(h, { at: 30_000, readings: [{ pod: 'a', counters: c(14, 1) }, { pod: 'b', counters: c(6, 6) }] }, 60_000);
    // b is gone (killed), c is new, a restarted (its counters fell).
    h = addScrape(h, { at: 60_000, readings: [{ pod: 'a', counters: c(2, 0) }, { pod: 'c', counters: c(3, 1) }] }, 60_000);
    let w = windowCounters(h, 60_000);
    expect(w?.coveredMs).to.equal(60_000);
    expect(w?.counters).to.deep.include({ feedbackCorrect: 0 + 1 + 3, feedbackWrong: 0 + 1 + 1 });
    h = addScrape(h, { at: 90_000, readings: [{ pod: 'a', counters: c(4, 0) }, { pod: 'c', counters: c(3, 2) }] }, 60_000);
    expect(h.map((s) => s.at)).to.deep.equal([30_000, 60_000, 90_000]);
    w = windowCounters(h, 60_000);
    // From 30 s: a 14→4 (reset: 0 counted, then 4 is below 14, clamped), b 6→6, c from 0 → 3/2.
    expect(w?.counters).to.deep.include({ feedbackCorrect: 0 + 0 + 3, feedbackWrong: 0 + 0 + 2 });
  });

  it('compares the live confidence histogram and accuracy with the ModelVersion\'s baseline', () => {
    const mv = exampleModelVersion('pets-v3', 3);
    mv.spec.metrics.confidenceHistogram = [0, 0, 0, 0, 0, 10, 10, 20, 20, 40];
    mv.spec.metrics.meanConfidence = 0.85;
    mv.spec.metrics.accuracy = 0.9;
    const counters = parseLiveCounters(page({ version: '3', confidences: [0.55, 0.58, 0.65, 0.97], correct: 6, wrong: 4 }), '3');
    const live = computeLiveQuality({ mv, counters, coveredMs: 3_600_000, now: new Date('2026-11-20T00:00:00Z') });
    expect(live).to.deep.include({ modelVersion: 'pets-v3', windowSeconds: 3600, predictions: 4, feedback: 10, accuracy: 0.6, baselineAccuracy: 0.9, baselineMeanConfidence: 0.85, measuredAt: '2026-11-20T00:00:00.000Z' });
    expect(live.meanConfidence).to.be.closeTo(0.6875, 1e-4);
    expect(live.confidenceHistogram).to.deep.equal([0, 0, 0, 0, 0, 2, 1, 0, 0, 1]);
    // live 0.5/0.25/0/0/0.25 vs baseline 0.1/0.1/0.2/0.2/0.4 over bins 6..10: TV = (0.4 + 0.15 + 0.2 + 0.2 + 0.15) / 2.
    expect(live.confidenceDrift).to.be.closeTo(0.55, 1e-4);
    const quiet = computeLiveQuality({ mv, counters: ZERO_COUNTERS, coveredMs: 0, now: new Date(0) });
    expect(quiet).to.not.have.any.keys('accuracy', 'meanConfidence', 'confidenceHistogram', 'confidenceDrift');
  });

  it('has a distance of 0 for the same distribution and 1 for disjoint ones, none for an empty one', () => {
    expect(totalVariation([1, 2, 3], [2, 4, 6])).to.equal(0);
    expect(totalVariation([1, 0], [0, 5])).to.equal(1);
    expect(totalVariation([0, 0], [1, 1])).to.equal(undefined);
    expect(tenBins(new Map([[0.5, 1]]))).to.equal(undefined);
  });
});

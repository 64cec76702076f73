import { expect } from 'chai';
import { judgeAnalysis } from './analysis.js';

describe('canary analysis', () => {
  const analysis = { maxErrorRate: 0.01, maxP95LatencyMs: 300, minMeanConfidence: 0.6, maxConfidenceDrift: 0.1, minRequests: 50 };
  const baseline = { meanConfidence: 0.85 };

  it('passes healthy canaries and lists every check', () => {
    const r = judgeAnalysis(analysis, { requests: 200, errors: 1, p95LatencyMs: 120, meanConfidence: 0.8 }, baseline);
    expect(r.verdict).to.equal('Pass');
    expect(r.reasons).to.have.length(4);
  });

  it('fails on errors, latency, low confidence or drift', () => {
    const fail = (sample: Parameters<typeof judgeAnalysis>[1]) => judgeAnalysis(analysis, sample, baseline);
    expect(fail({ requests: 100, errors: 5, p95LatencyMs: 100, meanConfidence: 0.85 }).reasons[0]).to.match(/^FAIL: error rate 5\.00%/);
    expect(fail({ requests: 100, errors: 0, p95LatencyMs: 900, meanConfidence: 0.85 }).verdict).to.equal('Fail');
    expect(fail({ requests: 100, errors: 0, p95LatencyMs: 100, meanConfidence: 0.55 }).verdict).to.equal('Fail');
    const drift = fail({ requests: 100, errors: 0, p95LatencyMs: 100, meanConfidence: 0.7 });
    expect(drift.verdict).to.equal('Fail');
    expect(drift.reasons.find((r) => r.startsWith('FAIL'))).to.contain('drift 0.150');
  });

  it('is inconclusive without data or with too few requests; passes when nothing is configured', () => {
    expect(judgeAnalysis(analysis, undefined, baseline).verdict).to.equal('Inconclusive');
    expect(judgeAnalysis(analysis, { requests: 10, errors: 0 }, baseline).verdict).to.equal('Inconclusive');
    expect(judgeAnalysis(undefined, undefined, baseline).verdict).to.equal('Pass');
    const noData = judgeAnalysis({ maxP95LatencyMs: 100 }, { requests: 0, errors: 0 }, baseline);
    expect(noData).to.deep.equal({ verdict: 'Pass', reasons: ['skipped: no latency data'] });
  });
});

import type { CanaryAnalysis } from '../../shared/api/inference-service.js';

/**
 * Judging one canary step on the canary pods' own metrics. Pure: the reconciler measures the
 * sample (over `analysis.window`) and hands it in.
 */

/** What the canary pods did over the analysis window. */
export interface AnalysisSample {
  /** Requests answered (all routes that predict). */
  requests: number;
  /** Of those, answered with a 5xx. */
  errors: number;
  /** 95th percentile latency in ms; undefined when there were no requests. */
  p95LatencyMs?: number;
  /** Mean top-class confidence; undefined when nothing was predicted. */
  meanConfidence?: number;
}

export const AnalysisVerdicts = ['Pass', 'Fail', 'Inconclusive'] as const;
export type AnalysisVerdict = (typeof AnalysisVerdicts)[number];

export interface AnalysisResult {
  verdict: AnalysisVerdict;
  /** One line per check, for status and Events. */
  reasons: string[];
}

export const DEFAULT_ANALYSIS_WINDOW = '1m';

/**
 * Pass, Fail or Inconclusive (not enough requests yet). A check without data is skipped and
 * says so; no analysis configured always passes.
 */
export function judgeAnalysis(
  analysis: CanaryAnalysis | undefined,
  sample: AnalysisSample | undefined,
  baseline: { meanConfidence?: number },
): AnalysisResult {
  if (!analysis) return { verdict: 'Pass', reasons: ['no analysis configured'] };
  if (!sample) return { verdict: 'Inconclusive', reasons: ['no metrics from the canary pods yet'] };
  const minRequests = analysis.minRequests ?? 0;
  if (sample.requests < minRequests) {
    return { verdict: 'Inconclusive', reasons: [`${sample.requests} requests in the window, ${minRequests} needed for a verdict`] };
  }
  const reasons: string[] = [];
  let failed = false;
  const check = (ok: boolean, text: string) => {
    if (!ok) failed = true;
    reasons.push(`${ok ? 'ok' : 'FAIL'}: ${text}`);
  };
  const errorRate = sample.requests > 0 ? sample.errors / sample.requests : 0;
  if (analysis.maxErrorRate !== undefined) {
    check(errorRate <= analysis.maxErrorRate, `error rate ${(errorRate * 100).toFixed(2)}% (max ${(analysis.maxErrorRate * 100).toFixed(2)}%)`);
  }
  if (analysis.maxP95LatencyMs !== undefined) {
    if (sample.p95LatencyMs === undefined) reasons.push('skipped: no latency data');
    else check(sample.p95LatencyMs <= analysis.maxP95LatencyMs, `p95 latency ${sample.p95LatencyMs.toFixed(0)} ms (max ${analysis.maxP95LatencyMs} ms)`);
  }
  const mean = sample.meanConfidence;
  if (analysis.minMeanConfidence !== undefined) {
    if (mean === undefined) reasons.push('skipped: no predictions for mean confidence');
    else check(mean >= analysis.minMeanConfidence, `mean confidence ${mean.toFixed(3)} (min ${analysis.minMeanConfidence})`);
  }
  if (analysis.maxConfidenceDrift !== undefined) {
    if (mean === undefined || baseline.meanConfidence === undefined) reasons.push('skipped: no confidence data for drift');
    else {
      const drift = Math.abs(mean - baseline.meanConfidence);
      check(drift <= analysis.maxConfidenceDrift, `confidence drift ${drift.toFixed(3)} from baseline ${baseline.meanConfidence.toFixed(3)} (max ${analysis.maxConfidenceDrift})`);
    }
  }
  return { verdict: failed ? 'Fail' : 'Pass', reasons };
}

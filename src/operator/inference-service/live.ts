import type { LiveQuality } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import type { LiveCounters } from './live-metrics.js';

/** Upper bounds of the baseline's 10 equal bins; the serving histogram has these among its buckets. */
const BIN_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The live confidence histogram over the baseline's 10 equal bins, from a cumulative histogram
 * whose bounds include 0.1 … 0.9 and 1 (kennel serve's do). Undefined when a bound is missing.
 */
export function tenBins(cumulative: ReadonlyMap<number, number>): number[] | undefined {
  const at = (le: number): number | undefined => {
    for (const [bound, count] of cumulative) if (Math.abs(bound - le) < 1e-9) return count;
    return undefined;
  };
  const cum = BIN_EDGES.map(at);
  if (cum.some((c) => c === undefined)) return undefined;
  return (cum as number[]).map((c, i) => Math.max(0, Math.round(c - (i === 0 ? 0 : (cum[i - 1] as number)))));
}

/** Total variation distance between two histograms over the same bins (0 same, 1 disjoint); undefined when either is empty. */
export function totalVariation(a: readonly number[], b: readonly number[]): number | undefined {
  const sa = a.reduce((x, y) => x + y, 0);
  const sb = b.reduce((x, y) => x + y, 0);
  if (sa <= 0 || sb <= 0 || a.length !== b.length) return undefined;
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs((a[i] as number) / sa - (b[i] as number) / sb);
  return Math.min(1, d / 2);
}

/**
 * status.live: what the serving version did over the window (all pods together) beside its
 * ModelVersion's offline baseline (test accuracy, mean confidence, confidence histogram).
 * Pure.
 */
export function computeLiveQuality(input: { mv: ModelVersion; counters: LiveCounters; coveredMs: number; now: Date }): LiveQuality {
  const { mv, counters } = input;
  const baseline = mv.spec.metrics;
  const predictions = Math.round(counters.confidenceCount);
  const feedback = Math.round(counters.feedbackCorrect + counters.feedbackWrong);
  const live: LiveQuality = {
    modelVersion: mv.metadata.name,
    windowSeconds: Math.round(input.coveredMs / 1000),
    predictions,
    feedback,
    baselineAccuracy: baseline.accuracy,
    baselineMeanConfidence: baseline.meanConfidence,
    measuredAt: input.now.toISOString(),
  };
  if (predictions > 0) {
    live.meanConfidence = round(counters.confidenceSum / counters.confidenceCount);
    const bins = tenBins(counters.confidenceBuckets);
    if (bins) {
      live.confidenceHistogram = bins;
      const drift = totalVariation(bins, baseline.confidenceHistogram);
      if (drift !== undefined) live.confidenceDrift = round(drift);
    }
  }
  if (feedback > 0) live.accuracy = round(counters.feedbackCorrect / feedback);
  return live;
}

import { bucketBound, serveSamples } from './canary-metrics.js';

/**
 * The cumulative counters of one serving pod that live quality is computed from, for one model
 * version: its confidence histogram (the pods of that version) and the feedback on its
 * predictions (`kennel_serve_feedback_total{version}`, which any pod may hold: feedback counts
 * for the version that made the prediction, wherever it arrives). Pure.
 */
export interface LiveCounters {
  /** Cumulative confidence histogram: upper bound → count. */
  readonly confidenceBuckets: ReadonlyMap<number, number>;
  readonly confidenceSum: number;
  readonly confidenceCount: number;
  readonly feedbackCorrect: number;
  readonly feedbackWrong: number;
}

export const ZERO_COUNTERS: LiveCounters = { confidenceBuckets: new Map(), confidenceSum: 0, confidenceCount: 0, feedbackCorrect: 0, feedbackWrong: 0 };

/** The counters of `version` in one pod's `/metrics` text. */
export function parseLiveCounters(text: string, version: string): LiveCounters {
  const buckets = new Map<number, number>();
  let confidenceSum = 0;
  let confidenceCount = 0;
  let feedbackCorrect = 0;
  let feedbackWrong = 0;
  for (const { name, labels, value } of serveSamples(text)) {
    if (labels.version !== version || !Number.isFinite(value)) continue;
    if (name === 'kennel_serve_prediction_confidence_bucket') {
      const le = bucketBound(labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    } else if (name === 'kennel_serve_prediction_confidence_sum') confidenceSum += value;
    else if (name === 'kennel_serve_prediction_confidence_count') confidenceCount += value;
    else if (name === 'kennel_serve_feedback_total') {
      if (labels.outcome === 'correct') feedbackCorrect += value;
      else if (labels.outcome === 'wrong') feedbackWrong += value;
    }
  }
  return { confidenceBuckets: buckets, confidenceSum, confidenceCount, feedbackCorrect, feedbackWrong };
}

function combine(a: LiveCounters, b: LiveCounters, sign: 1 | -1): LiveCounters {
  const clamp = (x: number): number => (sign === -1 ? Math.max(0, x) : x);
  const buckets = new Map<number, number>();
  for (const le of new Set([...a.confidenceBuckets.keys(), ...b.confidenceBuckets.keys()])) {
    buckets.set(le, clamp((a.confidenceBuckets.get(le) ?? 0) + sign * (b.confidenceBuckets.get(le) ?? 0)));
  }
  return {
    confidenceBuckets: buckets,
    confidenceSum: clamp(a.confidenceSum + sign * b.confidenceSum),
    confidenceCount: clamp(a.confidenceCount + sign * b.confidenceCount),
    feedbackCorrect: clamp(a.feedbackCorrect + sign * b.feedbackCorrect),
    feedbackWrong: clamp(a.feedbackWrong + sign * b.feedbackWrong),
  };
}

export const addCounters = (a: LiveCounters, b: LiveCounters): LiveCounters => combine(a, b, 1);
/** What happened between two readings of one pod (counters only grow; a reset clamps at 0). */
export const diffCounters = (now: LiveCounters, before: LiveCounters): LiveCounters => combine(now, before, -1);

import type { AnalysisSample } from './analysis.js';

/**
 * The canary analysis reads the canary pods' own `/metrics` (kennel serve's Prometheus text),
 * scraped by the operator straight from each pod's IP: no Prometheus needed, and the numbers
 * are exactly the new version's. Pure parsing and arithmetic live here; the reconciler scrapes.
 */

/** Routes that predict (src/serve/routes: /predict, KServe v1, Open Inference v2). */
export const PREDICT_ROUTES: ReadonlySet<string> = new Set(['predict', 'v1_predict', 'v2_infer']);

/** Cumulative counters of one or more pods, summed. */
export interface MetricsSnapshot {
  requests: number;
  errors: number;
  /** Cumulative latency histogram over predict routes: upper bound (s) → count. */
  latencyBuckets: Map<number, number>;
  confidenceSum: number;
  confidenceCount: number;
}

export function emptySnapshot(): MetricsSnapshot {
  return { requests: 0, errors: 0, latencyBuckets: new Map(), confidenceSum: 0, confidenceCount: 0 };
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** One sample of Prometheus text format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** +Inf stays Infinity; unparsable values are skipped. */
  readonly value: number;
}

/** The `kennel_serve_*` samples of a Prometheus text page (the only ones the operator reads). */
export function* serveSamples(text: string): Generator<PromSample> {
  for (const line of text.split('\n')) {
    if (!line.startsWith('kennel_serve_')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, name, labelText, valueText] = m;
    const value = valueText === '+Inf' ? Infinity : Number(valueText);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (labelText ?? '').matchAll(LABEL)) labels[l[1] as string] = l[2] as string;
    yield { name: name as string, labels, value };
  }
}

/** A histogram bucket bound (`le` label) as a number. */
export const bucketBound = (le: string | undefined): number => (le === '+Inf' ? Infinity : Number(le));

/** Parses the few kennel_serve series the analysis needs from Prometheus text format. */
export function parseServeMetrics(text: string): MetricsSnapshot {
  const s = emptySnapshot();
  for (const { name, labels, value } of serveSamples(text)) {
    if (!Number.isFinite(value)) continue;
    if (name === 'kennel_serve_requests_total' && PREDICT_ROUTES.has(labels.route ?? '')) {
      s.requests += value;
      if (Number(labels.status) >= 500) s.errors += value;
    } else if (name === 'kennel_serve_request_duration_seconds_bucket' && PREDICT_ROUTES.has(labels.route ?? '')) {
      const le = bucketBound(labels.le);
      s.latencyBuckets.set(le, (s.latencyBuckets.get(le) ?? 0) + value);
    } else if (name === 'kennel_serve_prediction_confidence_sum') {
      s.confidenceSum += value;
    } else if (name === 'kennel_serve_prediction_confidence_count') {
      s.confidenceCount += value;
    }
  }
  return s;
}

export function addSnapshots(a: MetricsSnapshot, b: MetricsSnapshot): MetricsSnapshot {
  const latencyBuckets = new Map(a.latencyBuckets);
  for (const [le, v] of b.latencyBuckets) latencyBuckets.set(le, (latencyBuckets.get(le) ?? 0) + v);
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    latencyBuckets,
    confidenceSum: a.confidenceSum + b.confidenceSum,
    confidenceCount: a.confidenceCount + b.confidenceCount,
  };
}

/** What happened between two snapshots (counters only grow; a restart resets, so clamp at 0). */
export function diffSnapshots(now: MetricsSnapshot, before: MetricsSnapshot): MetricsSnapshot {
  const latencyBuckets = new Map<number, number>();
  for (const [le, v] of now.latencyBuckets) latencyBuckets.set(le, Math.max(0, v - (before.latencyBuckets.get(le) ?? 0)));
  return {
    requests: Math.max(0, now.requests - before.requests),
    errors: Math.max(0, now.errors - before.errors),
    latencyBuckets,
    confidenceSum: Math.max(0, now.confidenceSum - before.confidenceSum),
    confidenceCount: Math.max(0, now.confidenceCount - before.confidenceCount),
  };
}

/** The q-quantile of a cumulative histogram, interpolated within its bucket as histogram_quantile does. */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((x, y) => x[0] - y[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export function sampleOf(s: MetricsSnapshot): AnalysisSample {
  const sample: AnalysisSample = { requests: s.requests, errors: s.errors };
  const p95 = histogramQuantile(0.95, s.latencyBuckets);
  if (p95 !== undefined) sample.p95LatencyMs = p95 * 1000;
  if (s.confidenceCount > 0) sample.meanConfidence = s.confidenceSum / s.confidenceCount;
  return sample;
}

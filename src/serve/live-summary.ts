import type { Registry } from 'prom-client';
import type { ModelIdentity } from './model-info.js';

/** Upper bounds of the 10 equal confidence bins, as `le` labels of kennel_serve_prediction_confidence. */
const BIN_BOUNDS = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1'];
/** Routes that classify images: the requests the live panel counts. */
const PREDICTION_ROUTES = new Set(['predict', 'v1_predict', 'v2_infer']);

/** What this replica has served since it started, beside the served version's offline baseline. */
export interface LiveSummary {
  /** Prediction requests answered (any status), and of them answered with an error status. */
  readonly requests: { readonly total: number; readonly failed: number };
  /** Images classified, per predicted top class (in the model's class order). */
  readonly labels: Readonly<Record<string, number>>;
  /** Images answered with label null (below --min-confidence). */
  readonly unsure: number;
  /** Images per confidence bin [0.1·i, 0.1·(i+1)), live and on the test split (null without metrics.json). */
  readonly confidence: { readonly live: readonly number[]; readonly baseline: readonly number[] | null };
  /** Feedback on this version's predictions, and the accuracy it gives (null before any). */
  readonly feedback: { readonly correct: number; readonly wrong: number; readonly accuracy: number | null };
  /** Test-split accuracy of this version (null without metrics.json). */
  readonly baselineAccuracy: number | null;
}

interface Sample {
  readonly value: number;
  readonly labels: Partial<Record<string, string | number>>;
  readonly metricName?: string;
}

async function samples(registry: Registry, name: string, identity: ModelIdentity): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const { values } = await metric.get();
  return (values as Sample[]).filter((v) => v.labels.model === identity.name && v.labels.version === identity.version);
}

/**
 * The live panel's figures, read from the server's own Prometheus registry (the same counters
 * /metrics exports, so the page and a dashboard never disagree) for the served version, with
 * the baseline from metrics.json (`confidenceHistogram`, `accuracy`). Per replica and since it
 * started: summing over replicas and windows is Prometheus's job (and status.live's).
 */
export async function liveSummary(registry: Registry, identity: ModelIdentity, classes: readonly string[], evaluation: Readonly<Record<string, unknown>> | undefined): Promise<LiveSummary> {
  const requests = (await samples(registry, 'kennel_serve_requests_total', identity)).filter((s) => PREDICTION_ROUTES.has(String(s.labels.route)));
  const predictions = await samples(registry, 'kennel_serve_predictions_total', identity);
  const buckets = (await samples(registry, 'kennel_serve_prediction_confidence', identity)).filter((s) => s.metricName?.endsWith('_bucket'));
  const feedback = await samples(registry, 'kennel_serve_feedback_total', identity);
  const sum = (xs: readonly Sample[]): number => xs.reduce((a, s) => a + s.value, 0);
  const cumulative = BIN_BOUNDS.map((le) => sum(buckets.filter((b) => String(b.labels.le) === le)));
  const live = cumulative.map((c, i) => c - (i === 0 ? 0 : (cumulative[i - 1] as number)));
  const correct = sum(feedback.filter((s) => s.labels.outcome === 'correct'));
  const wrong = sum(feedback.filter((s) => s.labels.outcome === 'wrong'));
  const baseline = evaluation?.confidenceHistogram;
  return {
    requests: { total: sum(requests), failed: sum(requests.filter((s) => Number(s.labels.status) >= 400)) },
    labels: Object.fromEntries(classes.map((c) => [c, sum(predictions.filter((s) => s.labels.class === c))])),
    unsure: sum(await samples(registry, 'kennel_serve_unsure_predictions_total', identity)),
    confidence: { live, baseline: Array.isArray(baseline) && baseline.length === 10 && baseline.every((n) => typeof n === 'number') ? (baseline as number[]) : null },
    feedback: { correct, wrong, accuracy: correct + wrong > 0 ? correct / (correct + wrong) : null },
    baselineAccuracy: typeof evaluation?.accuracy === 'number' ? evaluation.accuracy : null,
  };
}

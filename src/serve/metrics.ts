import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { ERROR_REASONS, boundedReason } from './error-reasons.js';

/** Route names used as the `route` label: fixed strings, never the request path. */
export const ROUTES = [
  'page',
  'predict',
  'feedback',
  'healthz',
  'readyz',
  'metrics',
  'info',
  'live',
  'charts',
  'v1_model',
  'v1_predict',
  'v2_live',
  'v2_ready',
  'v2_server',
  'v2_model',
  'v2_model_ready',
  'v2_infer',
  'unmatched',
] as const;
export type RouteName = (typeof ROUTES)[number];

export interface ServeMetricsOptions {
  readonly registry: Registry;
  readonly model: string;
  readonly version: string;
  /** Also export process metrics (CPU, RSS, heap, event loop lag) with the kennel_serve_ prefix. */
  readonly processMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];
const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64];
const COMMON_STATUSES = ['200', '400', '404', '413', '415', '503'];
const MAX_FEEDBACK_VERSIONS = 32;

/**
 * The inference server's Prometheus metrics, on an injected registry. Every series carries the
 * `model` and `version` of the served model and only bounded labels besides (route names,
 * status codes, class names from the model's metadata, error reasons from a fixed list).
 * Series are created at zero at start-up (and per class once the model's classes are known),
 * so dashboards and rate() see them before the first event.
 */
export class ServeMetrics {
  readonly registry: Registry;
  readonly #base: { model: string; version: string };
  readonly #requests: Counter<'model' | 'version' | 'route' | 'status'>;
  readonly #latency: Histogram<'model' | 'version' | 'route'>;
  readonly #predictions: Counter<'model' | 'version' | 'class'>;
  readonly #confidence: Histogram<'model' | 'version'>;
  readonly #unsure: Counter<'model' | 'version'>;
  readonly #errors: Counter<'model' | 'version' | 'reason'>;
  readonly #modelLoaded: Gauge<'model' | 'version'>;
  readonly #feedback: Counter<'model' | 'version' | 'class' | 'outcome'>;
  readonly #batchSize: Histogram<'model' | 'version'>;
  readonly #tensors: Gauge<'model' | 'version'>;
  readonly #shed: Counter<'model' | 'version' | 'stage'>;
  readonly #inFlight: Gauge<'model' | 'version'>;
  #classes = new Set<string>();
  readonly #feedbackVersions = new Set<string>();

  constructor(options: ServeMetricsOptions) {
    const registers = [options.registry];
    this.registry = options.registry;
    this.#base = { model: options.model, version: options.version };
    this.#requests = new Counter({ name: 'kennel_serve_requests_total', help: 'HTTP requests answered, by route and status code.', labelNames: ['model', 'version', 'route', 'status'], registers });
    this.#latency = new Histogram({ name: 'kennel_serve_request_duration_seconds', help: 'Time from request received to response sent, by route.', labelNames: ['model', 'version', 'route'], buckets: LATENCY_BUCKETS, registers });
    this.#predictions = new Counter({ name: 'kennel_serve_predictions_total', help: 'Images classified, by predicted class.', labelNames: ['model', 'version', 'class'], registers });
    this.#confidence = new Histogram({ name: 'kennel_serve_prediction_confidence', help: 'Probability of the predicted class, one observation per image.', labelNames: ['model', 'version'], buckets: CONFIDENCE_BUCKETS, registers });
    this.#unsure = new Counter({ name: 'kennel_serve_unsure_predictions_total', help: 'Images answered with label null: the top-class probability was below --min-confidence (also counted in predictions_total under their top class).', labelNames: ['model', 'version'], registers });
    this.#errors = new Counter({ name: 'kennel_serve_errors_total', help: 'Requests answered with an error, by reason.', labelNames: ['model', 'version', 'reason'], registers });
    this.#modelLoaded = new Gauge({ name: 'kennel_serve_model_loaded', help: '1 while this model version is loaded, warmed up and serving; 0 otherwise.', labelNames: ['model', 'version'], registers });
    this.#feedback = new Counter({ name: 'kennel_serve_feedback_total', help: 'Feedback on earlier predictions, by true class and whether the prediction was correct; version = the version that made the prediction.', labelNames: ['model', 'version', 'class', 'outcome'], registers });
    this.#batchSize = new Histogram({ name: 'kennel_serve_batch_size', help: 'Images per model invocation (micro-batching).', labelNames: ['model', 'version'], buckets: BATCH_BUCKETS, registers });
    this.#tensors = new Gauge({ name: 'kennel_serve_tfjs_tensors', help: 'Live TensorFlow.js tensors over all model workers.', labelNames: ['model', 'version'], registers });
    this.#shed = new Counter({ name: 'kennel_serve_shed_requests_total', help: 'Prediction requests refused with 503 Overloaded (load shedding), by stage: admission (--max-in-flight) or queue (--max-queue).', labelNames: ['model', 'version', 'stage'], registers });
    this.#inFlight = new Gauge({ name: 'kennel_serve_requests_in_flight', help: 'Prediction requests admitted and not yet answered (bounded by --max-in-flight).', labelNames: ['model', 'version'], registers });

    for (const route of ROUTES) {
      this.#latency.zero({ ...this.#base, route });
      for (const status of COMMON_STATUSES) this.#requests.inc({ ...this.#base, route, status }, 0);
    }
    for (const reason of ERROR_REASONS) this.#errors.inc({ ...this.#base, reason }, 0);
    this.#confidence.zero(this.#base);
    this.#unsure.inc(this.#base, 0);
    this.#batchSize.zero(this.#base);
    this.#modelLoaded.set(this.#base, 0);
    this.#tensors.set(this.#base, 0);
    for (const stage of ['admission', 'queue']) this.#shed.inc({ ...this.#base, stage }, 0);
    this.#inFlight.set(this.#base, 0);
    if (options.processMetrics) {
      collectDefaultMetrics({ register: options.registry, prefix: 'kennel_serve_', labels: this.#base });
      // prom-client names these gauges *_total, which promtool rejects for non-counters.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        options.registry.removeSingleMetric(`kennel_serve_${name}`);
      }
    }
  }

  /** Declares the model's classes: creates their series at zero; later calls are ignored. */
  setClasses(classes: readonly string[]): void {
    if (this.#classes.size > 0) return;
    this.#classes = new Set(classes);
    this.#feedbackVersions.add(this.#base.version);
    for (const c of classes) {
      this.#predictions.inc({ ...this.#base, class: c }, 0);
      for (const outcome of ['correct', 'wrong']) this.#feedback.inc({ ...this.#base, class: c, outcome }, 0);
    }
  }

  setModelLoaded(loaded: boolean): void {
    this.#modelLoaded.set(this.#base, loaded ? 1 : 0);
  }

  observeRequest(route: RouteName, status: number, seconds: number): void {
    this.#requests.inc({ ...this.#base, route, status: String(status) });
    this.#latency.observe({ ...this.#base, route }, seconds);
  }

  /** One classified image: its top class, that class's probability, and whether it was answered unsure (label null). */
  observePrediction(top: string, confidence: number, unsure = false): void {
    if (!this.#classes.has(top)) return;
    this.#predictions.inc({ ...this.#base, class: top });
    this.#confidence.observe(this.#base, confidence);
    if (unsure) this.#unsure.inc(this.#base);
  }

  observeError(reason: string): void {
    this.#errors.inc({ ...this.#base, reason: boundedReason(reason) });
  }

  /**
   * Feedback on a prediction made by `version` (default: the served one) — after a rollout,
   * feedback on the previous version's predictions counts for that version, so summing over
   * every replica gives each version's live accuracy. Versions beyond the first 32 seen are
   * counted as `other` (a bound on the label).
   */
  observeFeedback(trueLabel: string, correct: boolean, version: string = this.#base.version): void {
    if (!this.#classes.has(trueLabel)) return;
    if (!this.#feedbackVersions.has(version)) {
      if (this.#feedbackVersions.size >= MAX_FEEDBACK_VERSIONS) version = 'other';
      else {
        this.#feedbackVersions.add(version);
        for (const c of this.#classes) for (const outcome of ['correct', 'wrong']) this.#feedback.inc({ model: this.#base.model, version, class: c, outcome }, 0);
      }
    }
    this.#feedback.inc({ model: this.#base.model, version, class: trueLabel, outcome: correct ? 'correct' : 'wrong' });
  }

  observeBatch(size: number): void {
    this.#batchSize.observe(this.#base, size);
  }

  /** A prediction request shed with 503 Overloaded at `stage`. */
  observeShed(stage: 'admission' | 'queue'): void {
    this.#shed.inc({ ...this.#base, stage });
  }

  setInFlight(count: number): void {
    this.#inFlight.set(this.#base, count);
  }

  setTensors(count: number): void {
    this.#tensors.set(this.#base, count);
  }
}

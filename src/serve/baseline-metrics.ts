import { Gauge, type Registry } from 'prom-client';

/** Upper bounds of the baseline's 10 equal confidence bins, as `le` labels of the live histogram. */
const BIN_EDGES = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1'];

/**
 * The served version's offline baseline beside its live figures, so that drift is one PromQL
 * expression away: test accuracy (against live accuracy from `kennel_serve_feedback_total`),
 * mean confidence, and the cumulative share of test predictions at or below each confidence
 * bound (against `kennel_serve_prediction_confidence_bucket`, whose bounds include these).
 * Read from the artifact's metrics.json; no series when it has none.
 */
export class BaselineMetrics {
  readonly #base: { model: string; version: string };
  readonly #accuracy: Gauge<'model' | 'version'>;
  readonly #meanConfidence: Gauge<'model' | 'version'>;
  readonly #share: Gauge<'model' | 'version' | 'le'>;

  constructor(options: { registry: Registry; model: string; version: string }) {
    const registers = [options.registry];
    this.#base = { model: options.model, version: options.version };
    this.#accuracy = new Gauge({ name: 'kennel_serve_baseline_accuracy', help: 'Accuracy of the served version on its held-out test split (the offline baseline of live accuracy).', labelNames: ['model', 'version'], registers });
    this.#meanConfidence = new Gauge({ name: 'kennel_serve_baseline_mean_confidence', help: 'Mean top-class confidence on the test split (the baseline of live confidence).', labelNames: ['model', 'version'], registers });
    this.#share = new Gauge({
      name: 'kennel_serve_baseline_confidence_ratio',
      help: 'Share of test-split predictions whose confidence is at most le (the baseline of the live confidence histogram).',
      labelNames: ['model', 'version', 'le'],
      registers,
    });
  }

  /** Sets the baseline from metrics.json (`accuracy`, `meanConfidence`, `confidenceHistogram`); ignores what is missing. */
  set(evaluation: Readonly<Record<string, unknown>> | undefined): void {
    if (!evaluation) return;
    const { accuracy, meanConfidence, confidenceHistogram } = evaluation;
    if (typeof accuracy === 'number') this.#accuracy.set(this.#base, accuracy);
    if (typeof meanConfidence === 'number') this.#meanConfidence.set(this.#base, meanConfidence);
    if (Array.isArray(confidenceHistogram) && confidenceHistogram.length === BIN_EDGES.length && confidenceHistogram.every((n) => typeof n === 'number')) {
      const counts = confidenceHistogram as number[];
      const total = counts.reduce((a, b) => a + b, 0);
      let cumulative = 0;
      counts.forEach((n, i) => {
        cumulative += n;
        this.#share.set({ ...this.#base, le: BIN_EDGES[i] as string }, total > 0 ? cumulative / total : 0);
      });
    }
  }
}

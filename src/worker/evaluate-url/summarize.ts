/** What one `POST /predict` came to. */
export type PredictOutcome =
  | {
      readonly ok: true;
      readonly label: string | null;
      /** The most probable class (from the answer's probabilities; the label when it has none), also when the label is null. */
      readonly top?: string;
      readonly confidence: number;
      readonly latencyMs: number;
      readonly version?: string;
      readonly predictionId?: string;
    }
  | { readonly ok: false; readonly kind: string; readonly message: string; readonly latencyMs: number };

/** One labeled photo and what the service answered for it. */
export interface PhotoResult {
  readonly name: string;
  readonly expected: string;
  readonly outcome: PredictOutcome;
}

export interface ClassFigures {
  readonly class: string;
  /** Photos of this class that got an answer. */
  readonly support: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface LatencyFigures {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export interface EvaluateUrlReport {
  readonly url: string;
  readonly data: string;
  readonly classes: readonly string[];
  readonly total: number;
  readonly answered: number;
  readonly correct: number;
  /** Correct answers over answered photos (0 when nothing was answered); an unsure answer is not correct. */
  readonly accuracy: number;
  /** Answers with label null: the model was unsure (below the server's --min-confidence). */
  readonly unsure: number;
  /** Correct answers over answers with a label: the accuracy of what the service was sure of. */
  readonly accuracyWhenSure: number;
  /** Answers whose most probable class is right, unsure ones included, over answered photos: what the model knows, whatever the service's --min-confidence. */
  readonly topAccuracy: number;
  readonly perClass: readonly ClassFigures[];
  /** `confusion[expected][predicted]`, rows and columns in `classes` order (labels outside `classes` are dropped). */
  readonly confusion: readonly (readonly number[])[];
  /** Latency of answered requests, milliseconds, nearest-rank percentiles. */
  readonly latencyMs: LatencyFigures;
  readonly failed: number;
  readonly errorRate: number;
  /** Failed requests counted by kind, e.g. `HTTP 503 NotReady`, `timeout`, `connection refused`. */
  readonly errors: Readonly<Record<string, number>>;
  /** Model versions that answered, with counts (a rollout in progress shows two). */
  readonly versions: Readonly<Record<string, number>>;
  /** Answers whose label is not one of `classes`. */
  readonly unknownLabels: number;
  readonly elapsedMs: number;
}

/** Nearest-rank percentile of ascending-sorted `sorted` (0 for an empty list). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Folds per-photo results into the report: accuracy, precision/recall/F1 per class, the
 * confusion matrix, latency percentiles of answered requests and failures by kind. Pure.
 */
export function summarize(input: { url: string; data: string; classes: readonly string[]; results: readonly PhotoResult[]; elapsedMs: number }): EvaluateUrlReport {
  const { classes, results } = input;
  const index = new Map(classes.map((c, i) => [c, i]));
  const confusion = classes.map(() => classes.map(() => 0));
  const errors: Record<string, number> = {};
  const versions: Record<string, number> = {};
  const latencies: number[] = [];
  let answered = 0;
  let correct = 0;
  let unknownLabels = 0;
  let unsure = 0;
  let topCorrect = 0;
  for (const r of results) {
    const o = r.outcome;
    if (!o.ok) {
      errors[o.kind] = (errors[o.kind] ?? 0) + 1;
      continue;
    }
    answered++;
    latencies.push(o.latencyMs);
    if (o.version !== undefined) versions[o.version] = (versions[o.version] ?? 0) + 1;
    if ((o.top ?? o.label) === r.expected) topCorrect++;
    if (o.label === null) {
      unsure++;
      continue;
    }
    if (o.label === r.expected) correct++;
    const e = index.get(r.expected);
    const p = index.get(o.label);
    if (p === undefined) unknownLabels++;
    if (e !== undefined && p !== undefined) (confusion[e] as number[])[p]! += 1;
  }
  const perClass = classes.map((c, i): ClassFigures => {
    const row = confusion[i] as number[];
    const tp = row[i] as number;
    const support = results.filter((r) => r.outcome.ok && r.expected === c).length;
    const predicted = confusion.reduce((s, rw) => s + (rw[i] as number), 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { class: c, support, precision: round(precision), recall: round(recall), f1: round(ratio(2 * precision * recall, precision + recall)) };
  });
  latencies.sort((a, b) => a - b);
  const failed = results.length - answered;
  return {
    url: input.url,
    data: input.data,
    classes: [...classes],
    total: results.length,
    answered,
    correct,
    accuracy: round(ratio(correct, answered)),
    unsure,
    accuracyWhenSure: round(ratio(correct, answered - unsure)),
    topAccuracy: round(ratio(topCorrect, answered)),
    perClass,
    confusion,
    latencyMs: {
      p50: round(percentile(latencies, 50), 2),
      p95: round(percentile(latencies, 95), 2),
      p99: round(percentile(latencies, 99), 2),
      mean: round(ratio(latencies.reduce((s, x) => s + x, 0), latencies.length), 2),
      max: round(latencies[latencies.length - 1] ?? 0, 2),
    },
    failed,
    errorRate: round(ratio(failed, results.length)),
    errors,
    versions,
    unknownLabels,
    elapsedMs: Math.round(input.elapsedMs),
  };
}

export interface Verdict {
  readonly pass: boolean;
  /** Why it failed, one sentence each; empty when it passed. */
  readonly reasons: readonly string[];
}

/** Whether the report meets the thresholds: error rate at most `maxErrorRate`, accuracy at least `minAccuracy`. */
export function verdict(report: EvaluateUrlReport, thresholds: { maxErrorRate: number; minAccuracy?: number | undefined }): Verdict {
  const reasons: string[] = [];
  if (report.total === 0) reasons.push('no photos were evaluated');
  if (report.errorRate > thresholds.maxErrorRate) {
    reasons.push(`error rate ${report.errorRate} (${report.failed} of ${report.total}) is above --max-error-rate ${thresholds.maxErrorRate}`);
  }
  if (thresholds.minAccuracy !== undefined && report.accuracy < thresholds.minAccuracy) {
    reasons.push(`accuracy ${report.accuracy} (${report.correct} of ${report.answered} answered) is below --min-accuracy ${thresholds.minAccuracy}`);
  }
  return { pass: reasons.length === 0, reasons };
}

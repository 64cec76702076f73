import { calibrationOf } from '../../ml/calibration.js';
import type { ClassMetrics, MetricsSummary } from '../../shared/api/worker-report.js';

export const CONFIDENCE_BINS = 10;

/**
 * Index of the largest of `probs[offset .. offset+n)`; ties go to the lower index, as argmax does.
 */
export function argmax(probs: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if ((probs[offset + c] as number) > (probs[offset + best] as number)) best = c;
  return best;
}

/** confusion[actual][predicted] counts. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const row = m[labels[i] as number];
    if (!row) throw new RangeError(`label ${labels[i]} out of range for ${numClasses} classes`);
    row[predicted[i] as number]! += 1;
  }
  return m;
}

/** Precision, recall, F1 and support per class from a confusion matrix; 0 where undefined (no predictions or no support). */
export function perClassMetrics(confusion: readonly (readonly number[])[]): ClassMetrics[] {
  const n = confusion.length;
  return confusion.map((row, c) => {
    const tp = row[c] ?? 0;
    const support = row.reduce((a, b) => a + b, 0);
    let predictedAs = 0;
    for (let r = 0; r < n; r++) predictedAs += confusion[r]?.[c] ?? 0;
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1, support };
  });
}

/**
 * Area under the ROC curve of `scores` for separating positives from negatives (Mann–Whitney U
 * with average ranks for ties, so equal scores count one half). Undefined when either side is empty.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number | undefined {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k] as number] = avg;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (positive[i]) {
      pos++;
      rankSum += ranks[i] as number;
    }
  }
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) return undefined;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Counts of `values` in [0,1] over `bins` equal bins; 1.0 falls in the last bin. */
export function histogram(values: ArrayLike<number>, bins = CONFIDENCE_BINS): number[] {
  const h = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((values[i] as number) * bins)));
    h[b]! += 1;
  }
  return h;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * The evaluation summary from true labels and predicted probabilities (`probs` is
 * labels.length × classes.length, row-major, each row a softmax). Precision, recall and F1 are
 * macro averages over classes; ROC-AUC is the one-vs-rest macro average over classes that have
 * both positives and negatives (absent when none has). Pure.
 */
export function computeMetrics(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: readonly string[]): MetricsSummary {
  const n = labels.length;
  const k = classes.length;
  if (probs.length !== n * k) throw new RangeError(`expected ${n}×${k} probabilities, got ${probs.length}`);
  const predicted = new Int32Array(n);
  const confidence = new Float64Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const p = argmax(probs, i * k, k);
    predicted[i] = p;
    confidence[i] = probs[i * k + p] as number;
    if (p === labels[i]) correct++;
  }
  const confusion = confusionMatrix(labels, predicted, k);
  const per = perClassMetrics(confusion);
  const aucs: number[] = [];
  for (let c = 0; c < k; c++) {
    const scores = new Float64Array(n);
    const positive: boolean[] = new Array<boolean>(n);
    for (let i = 0; i < n; i++) {
      scores[i] = probs[i * k + c] as number;
      positive[i] = labels[i] === c;
    }
    const auc = rocAuc(scores, positive);
    if (auc !== undefined) aucs.push(auc);
  }
  return {
    accuracy: n === 0 ? 0 : correct / n,
    precision: mean(per.map((m) => m.precision)),
    recall: mean(per.map((m) => m.recall)),
    f1: mean(per.map((m) => m.f1)),
    ...(aucs.length > 0 ? { rocAuc: mean(aucs) } : {}),
    testImages: n,
    perClass: Object.fromEntries(classes.map((c, i) => [c, per[i] as ClassMetrics])),
    confusionMatrix: confusion,
    confidenceHistogram: histogram(confidence),
    meanConfidence: n === 0 ? 0 : confidence.reduce((a, b) => a + b, 0) / n,
    expectedCalibrationError: calibrationOf(confidence, Array.from(predicted, (p, i) => p === labels[i])).ece,
  };
}

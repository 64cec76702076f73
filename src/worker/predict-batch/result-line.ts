import type { BatchPredictedLine } from '../../shared/api/batch-report.js';
import { argmax } from '../evaluate/metrics.js';

/** Probabilities are written with 6 decimals: JSON Lines stay small, and labels come from the full values. */
const round = (p: number) => Math.round(p * 1e6) / 1e6;

/**
 * The result line of image `path` from row `row` of row-major softmax outputs: the label is the
 * argmax (ties to the lower class index, as `kennel evaluate` counts it), its probability the
 * confidence, and every class's probability.
 */
export function resultLine(path: string, probs: ArrayLike<number>, row: number, classes: readonly string[]): BatchPredictedLine {
  const n = classes.length;
  const offset = row * n;
  const best = argmax(probs, offset, n);
  const probabilities: Record<string, number> = {};
  for (let c = 0; c < n; c++) probabilities[classes[c] as string] = round(probs[offset + c] as number);
  return { path, label: classes[best] as string, confidence: round(probs[offset + best] as number), probabilities };
}

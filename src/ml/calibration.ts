/**
 * Temperature scaling (Guo et al., 2017): one scalar T > 0 that divides the logits so that the
 * softmax's confidence matches accuracy on held-out data. Fitted on the validation split by
 * minimising the negative log-likelihood; it changes no prediction's argmax. Pure.
 */

/** Mean negative log-likelihood of `labels` under softmax(logits / t); logits [n, k] row-major. */
export function temperatureNll(logits: Float32Array, labels: ArrayLike<number>, k: number, t: number): number {
  const n = labels.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, (logits[i * k + c] as number) / t);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp((logits[i * k + c] as number) / t - max);
    total += Math.log(sum) + max - (logits[i * k + (labels[i] as number)] as number) / t;
  }
  return total / Math.max(1, n);
}

/**
 * The temperature in [0.05, 20] minimising the NLL, by golden-section search over log T (the NLL
 * is convex in 1/T). Returns 1 when there is nothing to fit (no examples).
 */
export function fitTemperature(logits: Float32Array, labels: ArrayLike<number>, k: number): number {
  if (labels.length === 0) return 1;
  const f = (logT: number): number => temperatureNll(logits, labels, k, Math.exp(logT));
  let a = Math.log(0.05);
  let b = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < 60 && b - a > 1e-4; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/** One bin of a reliability diagram: predictions whose confidence fell in [from, to). */
export interface ReliabilityBin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** Mean confidence of the bin's predictions (0 when empty). */
  readonly confidence: number;
  /** Fraction of the bin's predictions that were right (0 when empty). */
  readonly accuracy: number;
}

export interface Calibration {
  /** Expected calibration error: Σ_bins (n_b / N)·|accuracy_b − confidence_b|. */
  readonly ece: number;
  readonly bins: readonly ReliabilityBin[];
}

/**
 * Expected calibration error over `bins` equal-width confidence bins (15 by default, as in Guo
 * et al.), with the reliability diagram's bins. `confidence[i]` is the top probability of
 * prediction i and `correct[i]` whether its argmax was the label.
 */
export function calibrationOf(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 15): Calibration {
  const n = confidence.length;
  const count = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const p = confidence[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b] = (count[b] as number) + 1;
    conf[b] = (conf[b] as number) + p;
    if (correct[i]) hits[b] = (hits[b] as number) + 1;
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = count[b] as number;
    const meanConf = c ? (conf[b] as number) / c : 0;
    const acc = c ? (hits[b] as number) / c : 0;
    if (n > 0) ece += (c / n) * Math.abs(acc - meanConf);
    out.push({ from: b / bins, to: (b + 1) / bins, count: c, confidence: meanConf, accuracy: acc });
  }
  return { ece, bins: out };
}

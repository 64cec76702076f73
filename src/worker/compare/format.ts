import type { HyperparameterValue } from './compared-model.js';
import type { FigureRow } from './comparison.js';

/**
 * How figures read in the text and HTML comparisons: fractions as percentages with deltas in
 * percentage points; ROC-AUC as a plain number.
 */
const AS_NUMBER = new Set(['rocAuc']);

export function formatValue(row: Pick<FigureRow, 'key'>, v: number | undefined): string {
  if (v === undefined) return '—';
  return AS_NUMBER.has(row.key) ? v.toFixed(3) : `${(v * 100).toFixed(1)}%`;
}

/** "+2.5 pp", "−0.013", "±0.0 pp"; empty when there is no delta. */
export function formatDelta(row: Pick<FigureRow, 'key'>, d: number | undefined): string {
  if (d === undefined) return '';
  const text = AS_NUMBER.has(row.key) ? Math.abs(d).toFixed(3) : `${Math.abs(d * 100).toFixed(1)} pp`;
  if (/^[0.]+( pp)?$/.test(text)) return `±${text}`;
  return `${d > 0 ? '+' : '−'}${text}`;
}

/** Whether a delta is an improvement (true), a regression (false) or neither (undefined). */
export function isImprovement(row: Pick<FigureRow, 'key' | 'better'>, d: number | undefined): boolean | undefined {
  if (d === undefined || formatDelta(row, d).startsWith('±')) return undefined;
  return row.better === 'higher' ? d > 0 : d < 0;
}

/** A hyperparameter or lineage value for a person; long digests shortened where `short`. */
export function formatFact(v: HyperparameterValue | undefined, short = false): string {
  if (v === undefined || v === null) return '—';
  const s = String(v);
  if (short && /^(sha256:)?[a-f0-9]{40,}$/.test(s)) return `${s.slice(0, s.startsWith('sha256:') ? 19 : 12)}…`;
  return s;
}

import type { MetricsSummary } from '../../shared/api/worker-report.js';

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n');
}

/** The evaluation as plain-text tables for a terminal: summary, per class, confusion matrix, confidence histogram. */
export function formatMetricsTable(m: MetricsSummary, classes: readonly string[]): string {
  const summary = table([
    ['metric', 'value'],
    ['images', String(m.testImages)],
    ['accuracy', pct(m.accuracy)],
    ['precision (macro)', pct(m.precision)],
    ['recall (macro)', pct(m.recall)],
    ['F1 (macro)', pct(m.f1)],
    ['ROC-AUC (one-vs-rest)', m.rocAuc === undefined ? '—' : m.rocAuc.toFixed(4)],
    ['mean confidence', pct(m.meanConfidence)],
  ]);
  const perClass = table([
    ['class', 'precision', 'recall', 'F1', 'support'],
    ...classes.map((c) => {
      const x = m.perClass[c];
      return [c, x ? pct(x.precision) : '—', x ? pct(x.recall) : '—', x ? pct(x.f1) : '—', String(x?.support ?? 0)];
    }),
  ]);
  const confusion = table([['actual \\ predicted', ...classes], ...classes.map((c, i) => [c, ...(m.confusionMatrix[i] ?? []).map(String)])]);
  const hist = table([
    ['confidence', ...m.confidenceHistogram.map((_, i) => `${(i / 10).toFixed(1)}-`)],
    ['images', ...m.confidenceHistogram.map(String)],
  ]);
  return `${summary}\n\n${perClass}\n\n${confusion}\n\n${hist}\n`;
}

import type { Comparison, FigureRow } from './comparison.js';
import { formatDelta, formatFact, formatValue } from './format.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length))) ?? [];
  const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - [...s].length));
  return rows.map((r) => r.map((cell, c) => pad(cell, widths[c] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** "90.0% (+5.0 pp)" for the models after the first, "85.0%" for the first. */
function figureCells(row: FigureRow): string[] {
  return row.values.map((v, i) => {
    const d = formatDelta(row, row.deltas[i]);
    return d ? `${formatValue(row, v)} (${d})` : formatValue(row, v);
  });
}

/**
 * The comparison as plain-text tables for a terminal: the models, the test metrics with deltas
 * against the first model, per-class precision/recall/F1, the hyperparameters and the lineage
 * (a `*` marks a row whose values differ), then the notes.
 */
export function formatComparisonText(c: Comparison): string {
  const labels = c.models.map((m) => m.label);
  const models = table([
    ['#', 'model', 'artifact', 'architecture', 'image size', 'test images', ...(c.models.some((m) => m.modelVersion) ? ['registry'] : [])],
    ...c.models.map((m, i) => [
      String(i + 1),
      m.label,
      m.uri,
      m.architecture ?? '—',
      m.imageSize === undefined ? '—' : String(m.imageSize),
      String(m.metrics.testImages),
      ...(m.modelVersion ? [`${m.modelVersion.model} v${m.modelVersion.version} ${m.modelVersion.phase ?? ''}${m.modelVersion.gatePassed === undefined ? '' : m.modelVersion.gatePassed ? ' (gate passed)' : ' (gate failed)'}`.trim()] : c.models.some((x) => x.modelVersion) ? ['—'] : []),
    ]),
  ]);
  const metrics = table([['test split', ...labels], ...c.metrics.map((r) => [r.label, ...figureCells(r)])]);
  const perClass = table([
    ['class', 'figure', ...labels],
    ...c.perClass.flatMap((k) => [
      [k.className, 'precision', ...figureCells(k.precision)],
      ['', 'recall', ...figureCells(k.recall)],
      ['', 'F1', ...figureCells(k.f1)],
      ['', 'support', ...k.support.map((s) => (s === undefined ? '—' : String(s)))],
    ]),
  ]);
  const facts = (title: string, rows: Comparison['hyperparameters']): string =>
    rows.length === 0 ? `${title}: none recorded` : table([[title, ...labels], ...rows.map((r) => [`${r.differs ? '* ' : '  '}${r.key}`, ...r.values.map((v) => formatFact(v, true))])]);
  const notes = c.notes.length === 0 ? '' : `\nnotes:\n${c.notes.map((n) => `- ${n}`).join('\n')}\n`;
  const deltaNote = `deltas against ${labels[0]} (pp: percentage points); * marks settings that differ`;
  return `${models}\n\n${metrics}\n\n${perClass}\n\n${facts('hyperparameters', c.hyperparameters)}\n\n${facts('lineage', c.lineage)}\n\n${deltaNote}\n${notes}`;
}

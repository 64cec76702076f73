import type { EvaluateUrlReport, Verdict } from './summarize.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const pad = (s: string, n: number): string => s.padEnd(n);

/** The report as a few plain-text tables, for a person at a terminal. */
export function formatReport(report: EvaluateUrlReport, verdict: Verdict): string {
  const lines: string[] = [];
  lines.push(`Service ${report.url}, photos ${report.data}`);
  lines.push(`  ${report.total} photos, ${report.answered} answered, ${report.failed} failed (${pct(report.errorRate)}) in ${(report.elapsedMs / 1000).toFixed(1)}s`);
  lines.push(`  accuracy ${pct(report.accuracy)} (${report.correct} of ${report.answered})`);
  if (report.unsure > 0) lines.push(`  unsure (label null) ${report.unsure}; accuracy when sure ${pct(report.accuracyWhenSure)} (${report.correct} of ${report.answered - report.unsure}); most probable class right ${pct(report.topAccuracy)}`);
  const versions = Object.entries(report.versions);
  if (versions.length > 0) lines.push(`  answered by version ${versions.map(([v, n]) => `${v} (${n})`).join(', ')}`);
  lines.push('');
  const w = Math.max(5, ...report.classes.map((c) => c.length)) + 2;
  lines.push(`  ${pad('class', w)}${pad('support', 9)}${pad('precision', 11)}${pad('recall', 9)}f1`);
  for (const c of report.perClass) {
    lines.push(`  ${pad(c.class, w)}${pad(String(c.support), 9)}${pad(c.precision.toFixed(3), 11)}${pad(c.recall.toFixed(3), 9)}${c.f1.toFixed(3)}`);
  }
  lines.push('');
  lines.push(`  confusion (rows: expected, columns: predicted ${report.classes.join(', ')})`);
  report.classes.forEach((c, i) => lines.push(`  ${pad(c, w)}${(report.confusion[i] ?? []).map((n) => String(n).padStart(6)).join('')}`));
  lines.push('');
  const l = report.latencyMs;
  lines.push(`  latency ms: p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  mean ${l.mean}  max ${l.max}`);
  const errors = Object.entries(report.errors).sort((a, b) => b[1] - a[1]);
  if (errors.length > 0) {
    lines.push('  errors:');
    for (const [kind, n] of errors) lines.push(`    ${String(n).padStart(6)}  ${kind}`);
  }
  if (report.unknownLabels > 0) lines.push(`  ${report.unknownLabels} answers named a class that is not a folder of the dataset`);
  lines.push('');
  lines.push(verdict.pass ? 'PASS' : `FAIL: ${verdict.reasons.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

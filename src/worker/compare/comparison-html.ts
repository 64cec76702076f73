import { renderConfusionSvg } from '../../shared/charts/confusion-svg.js';
import { escapeXml as e } from '../../shared/charts/svg.js';
import type { Comparison, FactRow, FigureRow } from './comparison.js';
import { modelColor, renderCurvesOverlaySvg } from './curves-overlay-svg.js';
import { formatDelta, formatFact, formatValue, isImprovement } from './format.js';

/**
 * An SVG document made to scale with the page (a viewBox from its size, unless it has one) and
 * named for screen readers by `label` (replacing a generic name it may carry).
 */
export function inlineSvg(svg: string, label: string): string {
  const open = /^<svg\b[^>]*>/.exec(svg)?.[0];
  if (!open) return svg;
  const w = /\bwidth="(\d+)"/.exec(open)?.[1];
  const h = /\bheight="(\d+)"/.exec(open)?.[1];
  const viewBox = w && h && !open.includes('viewBox=') ? ` viewBox="0 0 ${w} ${h}"` : '';
  const bare = open.replace(/\s(role|aria-label)="[^"]*"/g, '');
  return svg.replace(open, bare.replace('<svg', `<svg role="img" aria-label="${e(label)}"${viewBox}`));
}

function figureCells(row: FigureRow): string {
  return row.values
    .map((v, i) => {
      const d = row.deltas[i];
      const better = isImprovement(row, d);
      const cls = better === undefined ? 'delta' : better ? 'delta better' : 'delta worse';
      const delta = d === undefined ? '' : ` <span class="${cls}">${e(formatDelta(row, d))}</span>`;
      return `<td data-value="${v ?? ''}">${e(formatValue(row, v))}${delta}</td>`;
    })
    .join('');
}

function header(c: Comparison, first: string): string {
  return `<tr><th scope="col">${e(first)}</th>${c.models.map((m, i) => `<th scope="col"><span class="swatch" style="background:${modelColor(i)}"></span>${e(m.label)}</th>`).join('')}</tr>`;
}

function factTable(id: string, title: string, c: Comparison, rows: readonly FactRow[]): string {
  if (rows.length === 0) return `<section id="${id}"><h2>${title}</h2><p>None recorded.</p></section>`;
  const body = rows
    .map((r) => `<tr${r.differs ? ' class="differs"' : ''}><th scope="row">${e(r.key)}</th>${r.values.map((v) => `<td>${e(formatFact(v))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<section id="${id}"><h2>${title}</h2><p class="hint">Highlighted rows differ between the models.</p><div class="scroll"><table>${header(c, title === 'Lineage' ? 'fact' : 'setting')}\n${body}</table></div></section>`;
}

function modelsTable(c: Comparison): string {
  const registry = c.models.some((m) => m.modelVersion);
  const rows = c.models.map((m, i) => {
    const mv = m.modelVersion;
    const reg = registry ? `<td>${mv ? e(`${mv.model} v${mv.version}${mv.phase ? ` · ${mv.phase}` : ''}${mv.gatePassed === undefined ? '' : mv.gatePassed ? ' · gate passed' : ' · gate failed'}`) : '—'}</td>` : '';
    return `<tr><th scope="row"><span class="swatch" style="background:${modelColor(i)}"></span>${e(m.label)}</th><td><code>${e(m.uri)}</code></td><td>${e(m.architecture ?? '—')}</td><td>${m.imageSize ?? '—'}</td><td>${e(m.classes.join(', '))}</td><td>${m.metrics.testImages}</td>${reg}</tr>`;
  });
  return `<table><tr><th scope="col">model</th><th scope="col">artifact</th><th scope="col">architecture</th><th scope="col">image size</th><th scope="col">classes</th><th scope="col">test images</th>${registry ? '<th scope="col">registry</th>' : ''}</tr>\n${rows.join('\n')}</table>`;
}

function curvesSection(c: Comparison): string {
  const sets = c.models.map((m) => ({ label: m.label, curves: m.curves ?? [], ...(m.fineTuningFrom !== undefined ? { fineTuningFrom: m.fineTuningFrom } : {}) }));
  const missing = c.models.filter((m) => !m.curves || m.curves.length === 0).map((m) => m.label);
  const note = missing.length > 0 ? `<p class="hint">No training curves recorded for ${missing.map(e).join(', ')}.</p>` : '';
  return `<section id="curves"><h2>Training curves</h2>${note}<div class="scroll">${renderCurvesOverlaySvg(sets)}</div></section>`;
}

function confusionSection(c: Comparison): string {
  const figures = c.models.map((m, i) => {
    const svg = inlineSvg(renderConfusionSvg(m.classes, m.metrics.confusionMatrix), `Confusion matrix of ${m.label} on its test split`);
    return `<figure class="confusion" data-model="${e(m.label)}"><figcaption><span class="swatch" style="background:${modelColor(i)}"></span>${e(m.label)}</figcaption>${svg}</figure>`;
  });
  return `<section id="confusion"><h2>Confusion matrices</h2><p class="hint">Rows: actual class; columns: predicted; each cell shaded by its share of the row.</p><div class="side-by-side">${figures.join('\n')}</div></section>`;
}

const STYLE = `body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1.2rem; }
td, th { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th[scope="row"] { font-weight: normal; }
.delta { font-size: .85em; color: #666; white-space: nowrap; }
.delta.better { color: #17702b; }
.delta.worse { color: #b3261e; }
tr.differs { background: #fff4d6; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em; border-radius: 2px; vertical-align: baseline; }
.side-by-side { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.confusion { margin: 0; flex: 1 1 420px; max-width: 600px; }
figure svg, #curves svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
.hint { color: #555; font-size: .9em; }
code, #lineage td { word-break: break-all; }`;

/**
 * The comparison page: the models, their test metrics with deltas against the first (green
 * better, red worse), overlaid training curves, confusion matrices side by side, per-class
 * figures, hyperparameters and lineage with the differing rows highlighted, and the notes.
 * One self-contained file: inline SVG and CSS, no script, nothing fetched.
 */
export function renderComparisonHtml(c: Comparison): string {
  const labels = c.models.map((m) => m.label);
  const notes = c.notes.length === 0 ? '' : `<section id="notes"><h2>Before reading the deltas</h2><ul>${c.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul></section>`;
  const metrics = c.metrics.map((r) => `<tr data-metric="${e(r.key)}"><th scope="row">${e(r.label)}</th>${figureCells(r)}</tr>`).join('\n');
  const perClass = c.perClass
    .map((k) =>
      [k.precision, k.recall, k.f1]
        .map((r, j) => `<tr data-class="${e(k.className)}">${j === 0 ? `<th scope="rowgroup" rowspan="4">${e(k.className)}</th>` : ''}<th scope="row">${e(r.label)}</th>${figureCells(r)}</tr>`)
        .join('\n') + `\n<tr><th scope="row">support</th>${k.support.map((s) => `<td>${s ?? '—'}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kennel model comparison — ${e(labels.join(' vs '))}</title>
<style>
${STYLE}
</style>
</head>
<body>
<h1>Model comparison</h1>
<p>${c.models.length} models; deltas are against <b>${e(labels[0] ?? '')}</b> (pp: percentage points; for the calibration error lower is better).</p>
<section id="models"><h2>Models</h2><div class="scroll">${modelsTable(c)}</div></section>
${notes}
<section id="metrics"><h2>Test split</h2><div class="scroll"><table>${header(c, 'metric')}\n${metrics}</table></div></section>
${curvesSection(c)}
${confusionSection(c)}
<section id="per-class"><h2>Per class</h2><div class="scroll"><table><tr><th scope="col">class</th><th scope="col">figure</th>${c.models.map((m, i) => `<th scope="col"><span class="swatch" style="background:${modelColor(i)}"></span>${e(m.label)}</th>`).join('')}</tr>\n${perClass}</table></div></section>
${factTable('hyperparameters', 'Hyperparameters', c, c.hyperparameters)}
${factTable('lineage', 'Lineage', c, c.lineage)}
</body>
</html>
`;
}

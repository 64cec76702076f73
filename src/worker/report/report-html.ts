import type { MetricsSummary } from '../../shared/api/worker-report.js';
import type { ModelMetadata } from '../../ml/metadata.js';
import type { DuplicateFile, SkippedFile } from '../dataset/load-dataset.js';
import type { EpochLog } from '../../ml/fit/types.js';
import type { ReliabilityBin } from '../../ml/calibration.js';
import { escapeXml as e } from '../../shared/charts/svg.js';
import { renderMistakesHtml, type ShownMistake } from './mistakes-html.js';

export interface ReportInput {
  readonly artifactUri: string;
  readonly metadata: ModelMetadata;
  readonly metrics: MetricsSummary;
  readonly history: readonly EpochLog[];
  /** Pretrained recipe: the head phase's epochs, before `history` (the fine-tuning epochs). */
  readonly headHistory?: readonly EpochLog[];
  /** Epoch of `history` whose weights the model holds; 0: the head-only model was kept. */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly trainingSeconds: number;
  readonly splits: { readonly train: number; readonly validation: number; readonly test: number };
  readonly skipped: readonly SkippedFile[];
  readonly duplicates: readonly DuplicateFile[];
  readonly ignored: readonly string[];
  /** Calibration on the test split: its expected calibration error and reliability bins. */
  readonly calibration?: { readonly ece: number; readonly bins: readonly ReliabilityBin[] };
  /** The test split's most confident mistakes, with thumbnails; `wrong` counts every mistake. */
  readonly mistakes?: { readonly shown: readonly ShownMistake[]; readonly wrong: number };
}

const pct = (v: number | undefined): string => (v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
const fix = (v: number | undefined, d = 4): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

/** The report page beside the model: the two charts, the test metrics, the run's facts and every skipped file. */
export function renderReportHtml(r: ReportInput): string {
  const m = r.metrics;
  const perClass = Object.entries(m.perClass)
    .map(([c, x]) => `<tr><td>${e(c)}</td><td>${pct(x.precision)}</td><td>${pct(x.recall)}</td><td>${pct(x.f1)}</td><td>${x.support}</td></tr>`)
    .join('\n');
  const epochRows = (history: readonly EpochLog[], best: number): string =>
    history
      .map(
        (h) =>
          `<tr${h.epoch === best ? ' class="best"' : ''}><td>${h.epoch}</td><td>${fix(h.loss)}</td><td>${pct(h.accuracy)}</td><td>${fix(h.valLoss)}</td><td>${pct(h.valAccuracy)}</td><td>${fix(h.imagesPerSecond, 1)}</td></tr>`,
      )
      .join('\n');
  const epochs = epochRows(r.history, r.bestEpoch);
  const headBest = r.bestEpoch === 0 && r.headHistory ? bestOf(r.headHistory) : -1;
  const headTable = r.headHistory
    ? `<h3>Head on frozen features (${r.headHistory.length} epochs${r.bestEpoch === 0 ? '; this head is the model: fine-tuning did not improve on it' : ''})</h3>
<table><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val loss</th><th>val accuracy</th><th>examples/s</th></tr>
${epochRows(r.headHistory, headBest)}
</table>
<h3>Fine-tuning</h3>`
    : '';
  const skipped =
    r.skipped.length === 0
      ? '<p>None.</p>'
      : `<table><tr><th>file</th><th>reason</th><th>detail</th></tr>${r.skipped.map((s) => `<tr><td>${e(s.name)}</td><td>${e(s.reason)}</td><td>${e(s.message)}</td></tr>`).join('\n')}</table>`;
  const dupes =
    r.duplicates.length === 0
      ? '<p>None.</p>'
      : `<table><tr><th>file</th><th>same bytes as</th></tr>${r.duplicates.map((d) => `<tr><td>${e(d.name)}</td><td>${e(d.duplicateOf)}</td></tr>`).join('\n')}</table>`;
  const hp = Object.entries(r.metadata.hyperparameters)
    .map(([k, v]) => `<tr><td>${e(k)}</td><td>${e(String(v))}</td></tr>`)
    .join('\n');
  const pre = r.metadata.pretrained;
  const backbone = pre
    ? `<h3>Pretrained backbone</h3>
<p>${e(pre.model)} from the npm package <code>${e(pre.package)}@${e(pre.version)}</code> (license ${e(pre.license)}), cut at <code>${e(pre.cut)}</code>; frozen up to <code>${e(pre.boundary)}</code>, fine-tuned: ${pre.trainableBlocks.map((b) => `<code>${e(b)}</code>`).join(', ')}.</p>`
    : '';
  const cal = r.calibration;
  const temperature = r.metadata.calibration?.temperature;
  const calibration = cal
    ? `<h3>Calibration</h3>
<p>Expected calibration error on the test split: <b>${pct(cal.ece)}</b> (15 confidence bins)${temperature !== undefined ? `; temperature ${fix(temperature, 3)} fitted on the validation split and folded into the output layer` : ''}.</p>
<img id="reliability" src="reliability.png" alt="Reliability diagram: accuracy against confidence per bin, with the diagonal of a calibrated model">
<table><tr><th>confidence</th>${cal.bins.filter((b) => b.count > 0).map((b) => `<th>${b.from.toFixed(2)}–${b.to.toFixed(2)}</th>`).join('')}</tr>
<tr><td>predictions</td>${cal.bins.filter((b) => b.count > 0).map((b) => `<td>${b.count}</td>`).join('')}</tr>
<tr><td>mean confidence</td>${cal.bins.filter((b) => b.count > 0).map((b) => `<td>${pct(b.confidence)}</td>`).join('')}</tr>
<tr><td>accuracy</td>${cal.bins.filter((b) => b.count > 0).map((b) => `<td>${pct(b.accuracy)}</td>`).join('')}</tr></table>`
    : '';
  const hist = m.confidenceHistogram.map((c, i) => `<td title="${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}">${c}</td>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kennel model report — ${e(r.metadata.classes.join(' / '))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; display: block; overflow-x: auto; }
code { overflow-wrap: anywhere; }
.mistakes { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .8rem; }
.mistake { margin: 0; font-size: .85rem; }
.mistake img { display: block; width: 160px; height: 160px; object-fit: cover; }
.probs { list-style: none; padding: 0; margin: .2rem 0 0; }
.probs li { display: flex; justify-content: space-between; }
.probs .predicted { color: #b3261e; font-weight: bold; }
.probs .actual { color: #1b6e2a; }
td, th { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }
tr.best { background: #e8f6e8; }
img { max-width: 100%; border: 1px solid #ddd; }
.big { font-size: 1.4rem; }
</style>
</head>
<body>
<h1>Model report</h1>
<p>Artifact <code>${e(r.artifactUri)}</code> · ${e(r.metadata.architecture)} · ${r.metadata.preprocessing.size}×${r.metadata.preprocessing.size} · backend ${e(r.metadata.backend)} · code ${e(r.metadata.codeVersion)} · ${e(r.metadata.createdAt)}</p>
<p>Weights sha256 <code>${e(r.metadata.sha256)}</code></p>
<h2>Test split (${m.testImages} images, measured on the reloaded artifact)</h2>
<p class="big">Accuracy ${pct(m.accuracy)} · macro precision ${pct(m.precision)} · recall ${pct(m.recall)} · F1 ${pct(m.f1)} · ROC-AUC ${fix(m.rocAuc, 3)} · mean confidence ${pct(m.meanConfidence)}</p>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
${perClass}
</table>
<img id="confusion" src="confusion.png" alt="Confusion matrix">
<h3>Confidence histogram (top-class probability, 10 bins on [0, 1])</h3>
<img id="confidence" src="confidence.png" alt="Confidence histogram: share of test predictions per confidence bin">
<table><tr>${hist}</tr></table>
${calibration}
${r.mistakes ? renderMistakesHtml(r.mistakes.shown, m.testImages, r.mistakes.wrong) : ''}
<h2>Training</h2>
<img id="curves" src="curves.png" alt="Training curves">
<p>${r.history.length} epochs in ${r.trainingSeconds.toFixed(1)} s; ${r.bestEpoch > 0 ? `weights of epoch ${r.bestEpoch} kept` : 'the head-only weights kept'}${r.stoppedEarly ? ' (stopped early: validation loss stopped improving)' : ''}.</p>
${headTable}<table><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val loss</th><th>val accuracy</th><th>images/s</th></tr>
${epochs}
</table>
${backbone}
<h3>Hyperparameters</h3>
<table>${hp}</table>
<h2>Dataset</h2>
<p><code>${e(r.metadata.dataset.uri)}</code>, digest <code>${e(r.metadata.dataset.digest)}</code></p>
<p>Classes: ${r.metadata.classes.map(e).join(', ')}. Split by content hash: ${r.splits.train} train, ${r.splits.validation} validation, ${r.splits.test} test.</p>
<h3>Skipped files (${r.skipped.length})</h3>
${skipped}
<h3>Duplicates dropped (${r.duplicates.length})</h3>
${dupes}
<h3>Ignored: outside the class folders (${r.ignored.length})</h3>
<p>${r.ignored.length === 0 ? 'None.' : r.ignored.map((n) => `<code>${e(n)}</code>`).join(', ')}</p>
</body>
</html>
`;
}

/** The epoch with the lowest validation loss. */
function bestOf(history: readonly EpochLog[]): number {
  let best = history[0];
  for (const h of history) if (best && h.valLoss < best.valLoss) best = h;
  return best?.epoch ?? -1;
}

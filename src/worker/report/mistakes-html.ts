import { escapeXml as e } from '../../shared/charts/svg.js';
import type { ConfidentMistake } from './confident-mistakes.js';

/** A mistake as the report shows it: with its thumbnail's report-relative path. */
export interface ShownMistake extends ConfidentMistake {
  readonly thumbnail: string;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/**
 * The report's "most confident mistakes" section: one figure per mistake with its thumbnail,
 * file name, true and predicted class and every class's probability, most confident first.
 */
export function renderMistakesHtml(mistakes: readonly ShownMistake[], testImages: number, wrongTotal: number): string {
  const head = `<h2 id="mistakes">Most confident mistakes (${mistakes.length} of ${wrongTotal} wrong on ${testImages} test images)</h2>`;
  if (mistakes.length === 0) return `${head}\n<p>None: every test image was classified correctly.</p>`;
  const figures = mistakes.map((m) => {
    const probs = Object.entries(m.probabilities)
      .sort((a, b) => b[1] - a[1])
      .map(([c, p]) => `<li${c === m.predicted ? ' class="predicted"' : c === m.actual ? ' class="actual"' : ''}><span>${e(c)}</span> <span>${pct(p)}</span></li>`)
      .join('');
    return `<figure class="mistake" data-name="${e(m.name)}">
<img src="${e(m.thumbnail)}" width="160" height="160" alt="${e(m.name)}: a ${e(m.actual)} the model took for a ${e(m.predicted)}">
<figcaption><code>${e(m.name)}</code><br>actual <b>${e(m.actual)}</b> · predicted <b>${e(m.predicted)}</b> ${pct(m.confidence)}<ul class="probs">${probs}</ul></figcaption>
</figure>`;
  });
  return `${head}
<p>The test images the model was surest about and still got wrong: look here first when deciding what data to add (a mislabelled file, two classes it confuses, a kind of photo it has not seen).</p>
<div class="mistakes">
${figures.join('\n')}
</div>`;
}

import { escapeXml, n } from '../../shared/charts/svg.js';
import type { CurvePoint } from './compared-model.js';

export interface CurveSet {
  readonly label: string;
  readonly curves: readonly CurvePoint[];
  /** Pretrained recipe: the epoch where fine-tuning starts (the epochs before trained the head), marked by a dotted line. */
  readonly fineTuningFrom?: number;
}

/** Colours for up to eight models (then they repeat); distinguishable in colour-blind palettes. */
export const MODEL_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'] as const;

export const modelColor = (i: number): string => MODEL_COLORS[i % MODEL_COLORS.length] as string;

const PANEL = { width: 360, height: 240, left: 50, top: 36 };
const PANEL_GAP = 70;

type Field = keyof CurvePoint;

function panel(x0: number, title: string, sets: readonly CurveSet[], fields: { train: Field; validation: Field }, fixedMax?: number): string {
  const epochs = Math.max(1, ...sets.map((s) => s.curves.length));
  const values = sets.flatMap((s) => s.curves.flatMap((p) => [p[fields.train], p[fields.validation]])).filter((v): v is number => v !== undefined);
  const max = fixedMax ?? Math.max(1e-6, ...values) * 1.05;
  const xs = (e: number): number => x0 + PANEL.left + (epochs <= 1 ? PANEL.width / 2 : ((e - 1) / (epochs - 1)) * PANEL.width);
  const ys = (v: number): number => PANEL.top + PANEL.height - (Math.min(v, max) / max) * PANEL.height;
  const parts = [
    `<text x="${n(x0 + PANEL.left)}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${n(x0 + PANEL.left)}" y="${PANEL.top}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = ys((max * i) / 4);
    parts.push(`<line x1="${n(x0 + PANEL.left)}" x2="${n(x0 + PANEL.left + PANEL.width)}" y1="${n(y)}" y2="${n(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${n(x0 + PANEL.left - 6)}" y="${n(y + 4)}" font-size="11" text-anchor="end">${((max * i) / 4).toFixed(2)}</text>`);
  }
  const ticks = Math.min(epochs, 10);
  for (let i = 0; i < ticks; i++) {
    const e = ticks <= 1 ? 1 : Math.round(1 + ((epochs - 1) * i) / (ticks - 1));
    parts.push(`<text x="${n(xs(e))}" y="${PANEL.top + PANEL.height + 16}" font-size="11" text-anchor="middle">${e}</text>`);
  }
  parts.push(`<text x="${n(x0 + PANEL.left + PANEL.width / 2)}" y="${PANEL.top + PANEL.height + 32}" font-size="12" text-anchor="middle">epoch</text>`);
  sets.forEach((s, i) => {
    if (s.fineTuningFrom !== undefined && s.fineTuningFrom > 1 && s.fineTuningFrom <= s.curves.length) {
      const x = n(xs(s.fineTuningFrom - 0.5));
      parts.push(`<line x1="${x}" x2="${x}" y1="${PANEL.top}" y2="${PANEL.top + PANEL.height}" data-model="${escapeXml(s.label)}" data-marker="fine-tuning" stroke="${modelColor(i)}" stroke-width="1.5" stroke-dasharray="1 3"><title>${escapeXml(`${s.label}: head on frozen features for ${s.fineTuningFrom - 1} epochs, fine-tuning from epoch ${s.fineTuningFrom}`)}</title></line>`);
    }
    for (const [series, field, dash] of [['validation', fields.validation, ''], ['train', fields.train, ' stroke-dasharray="5 4"']] as const) {
      const pts = s.curves.map((p, e) => {
        const v = p[field];
        return v === undefined ? undefined : `${n(xs(e + 1))},${n(ys(v))}`;
      }).filter((p): p is string => p !== undefined);
      if (pts.length === 0) continue;
      const attrs = `data-model="${escapeXml(s.label)}" data-series="${series}" fill="none" stroke="${modelColor(i)}" stroke-width="2"${dash}`;
      parts.push(pts.length === 1 ? `<circle cx="${pts[0]?.split(',')[0]}" cy="${pts[0]?.split(',')[1]}" r="3" ${attrs}/>` : `<polyline points="${pts.join(' ')}" ${attrs}><title>${escapeXml(`${s.label} ${series} ${title.toLowerCase()}`)}</title></polyline>`);
    }
  });
  return parts.join('\n');
}

/**
 * The models' training curves overlaid: loss (left) and accuracy (right) per epoch, one colour
 * per model, validation solid and training dashed, a pretrained model's start of fine-tuning
 * dotted, with a legend. Models without curves are
 * left out of the chart (the page says so).
 */
export function renderCurvesOverlaySvg(sets: readonly CurveSet[]): string {
  const width = 2 * (PANEL.left + PANEL.width) + PANEL_GAP + 20;
  const legendTop = PANEL.top + PANEL.height + 50;
  const legend = sets.map((s, i) => {
    const y = legendTop + i * 18;
    return `<line x1="${PANEL.left}" x2="${PANEL.left + 26}" y1="${y}" y2="${y}" stroke="${modelColor(i)}" stroke-width="3"/><text x="${PANEL.left + 34}" y="${y + 4}" font-size="12">${escapeXml(s.label)}</text>`;
  });
  const marked = sets.some((s) => s.fineTuningFrom !== undefined);
  legend.push(`<text x="${PANEL.left}" y="${legendTop + sets.length * 18 + 6}" font-size="11" fill="#555">solid: validation · dashed: training${marked ? ' · dotted vertical: fine-tuning starts (epochs before it trained the head on frozen features)' : ''}</text>`);
  const height = legendTop + sets.length * 18 + 20;
  const label = `Training curves of ${sets.map((s) => s.label).join(', ')}: loss and accuracy per epoch`;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(label)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${panel(0, 'Loss', sets, { train: 'loss', validation: 'valLoss' })}
${panel(PANEL.left + PANEL.width + PANEL_GAP, 'Accuracy', sets, { train: 'accuracy', validation: 'valAccuracy' }, 1)}
${legend.join('\n')}
</svg>`;
}

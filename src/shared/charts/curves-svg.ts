import { escapeXml, n } from './svg.js';

/**
 * One epoch of a training history as the curves need it: the fields of src/ml/fit's `EpochLog`
 * that are drawn (an `EpochLog` is one), declared here because src/shared imports nothing from src/ml.
 */
export interface CurveEpoch {
  readonly loss: number;
  readonly accuracy: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
}

interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | undefined)[];
}

const W = 900;
const H = 360;
const PANEL_W = 400;
const PLOT = { left: 55, top: 40, width: 320, height: 260 };

function panel(x0: number, title: string, series: readonly Series[], epochs: number, fixedMax: number | undefined, bestEpoch: number): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const max = fixedMax ?? Math.max(1e-6, ...all) * 1.05;
  const min = 0;
  const xs = (epoch: number): number => x0 + PLOT.left + (epochs <= 1 ? PLOT.width / 2 : ((epoch - 1) / (epochs - 1)) * PLOT.width);
  const ys = (v: number): number => PLOT.top + PLOT.height - ((Math.min(v, max) - min) / (max - min)) * PLOT.height;
  const parts: string[] = [];
  parts.push(`<text x="${n(x0 + PLOT.left)}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<rect x="${n(x0 + PLOT.left)}" y="${PLOT.top}" width="${PLOT.width}" height="${PLOT.height}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = min + ((max - min) * i) / 4;
    const y = ys(v);
    parts.push(`<line x1="${n(x0 + PLOT.left)}" x2="${n(x0 + PLOT.left + PLOT.width)}" y1="${n(y)}" y2="${n(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${n(x0 + PLOT.left - 6)}" y="${n(y + 4)}" font-size="11" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  const ticks = Math.min(epochs, 10);
  for (let i = 0; i < ticks; i++) {
    const e = ticks <= 1 ? 1 : Math.round(1 + ((epochs - 1) * i) / (ticks - 1));
    parts.push(`<text x="${n(xs(e))}" y="${PLOT.top + PLOT.height + 16}" font-size="11" text-anchor="middle">${e}</text>`);
  }
  parts.push(`<text x="${n(x0 + PLOT.left + PLOT.width / 2)}" y="${PLOT.top + PLOT.height + 34}" font-size="12" text-anchor="middle">epoch</text>`);
  if (bestEpoch >= 1) {
    parts.push(`<line x1="${n(xs(bestEpoch))}" x2="${n(xs(bestEpoch))}" y1="${PLOT.top}" y2="${PLOT.top + PLOT.height}" stroke="#2a2" stroke-dasharray="4 3"/>`);
  }
  series.forEach((s, si) => {
    const pts = s.values.map((v, i) => (v !== undefined && Number.isFinite(v) ? `${n(xs(i + 1))},${n(ys(v))}` : undefined)).filter(Boolean);
    if (pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of pts) {
      const [cx, cy] = (p as string).split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = PLOT.top + 14 + si * 16;
    parts.push(`<rect x="${n(x0 + PLOT.left + PLOT.width - 110)}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${n(x0 + PLOT.left + PLOT.width - 96)}" y="${ly}" font-size="11">${escapeXml(s.label)}</text>`);
  });
  return parts.join('\n');
}

/**
 * Training curves as SVG: loss (left) and accuracy (right) per epoch for the training and
 * validation splits, with the epoch whose weights were kept marked by a dashed green line.
 */
export function renderCurvesSvg(history: readonly CurveEpoch[], bestEpoch: number): string {
  const epochs = Math.max(1, history.length);
  const loss = panel(0, 'Loss', [
    { label: 'train', color: '#1f77b4', values: history.map((h) => h.loss) },
    { label: 'validation', color: '#ff7f0e', values: history.map((h) => h.valLoss) },
  ], epochs, undefined, bestEpoch);
  const acc = panel(PANEL_W + 50, 'Accuracy', [
    { label: 'train', color: '#1f77b4', values: history.map((h) => h.accuracy) },
    { label: 'validation', color: '#ff7f0e', values: history.map((h) => h.valAccuracy) },
  ], epochs, 1, bestEpoch);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Training curves" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${loss}
${acc}
</svg>`;
}

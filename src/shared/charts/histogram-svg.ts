import { escapeXml, n } from './svg.js';

/** One series of a histogram: counts per bin; drawn as each bin's share of the series' total. */
export interface HistogramSeries {
  readonly label: string;
  readonly color: string;
  readonly counts: readonly number[];
}

const W = 640;
const H = 300;
const PLOT = { left: 56, top: 44, width: 560, height: 200 };

/**
 * A histogram of top-class confidence over equal bins on [0, 1] as SVG: for each bin, one bar
 * per series whose height is the bin's share of that series' predictions, so that series of
 * different sizes (live traffic against the test split's baseline) compare directly. Every
 * series has as many bins as the first; a series with no predictions draws no bars.
 */
export function renderHistogramSvg(title: string, series: readonly HistogramSeries[]): string {
  const bins = series[0]?.counts.length ?? 0;
  const shares = series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0);
    return s.counts.map((c) => (total > 0 ? c / total : 0));
  });
  const max = Math.min(1, Math.max(0.05, ...shares.flat()) * 1.1);
  const binW = bins > 0 ? PLOT.width / bins : PLOT.width;
  const barW = (binW * 0.8) / Math.max(1, series.length);
  const ys = (v: number): number => PLOT.top + PLOT.height - (v / max) * PLOT.height;
  const parts: string[] = [`<text x="${PLOT.left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.left + PLOT.width}" y1="${n(ys(v))}" y2="${n(ys(v))}" stroke="#eee"/>`);
    parts.push(`<text x="${PLOT.left - 6}" y="${n(ys(v) + 4)}" font-size="11" text-anchor="end">${Math.round(v * 100)}%</text>`);
  }
  shares.forEach((values, si) => {
    const s = series[si] as HistogramSeries;
    values.forEach((v, b) => {
      const x = PLOT.left + b * binW + binW * 0.1 + si * barW;
      const count = s.counts[b] ?? 0;
      parts.push(`<rect class="bar" data-series="${escapeXml(s.label)}" data-bin="${b}" x="${n(x)}" y="${n(ys(v))}" width="${n(barW)}" height="${n(PLOT.top + PLOT.height - ys(v))}" fill="${s.color}"><title>${escapeXml(s.label)}: ${count} (${(v * 100).toFixed(1)}%)</title></rect>`);
    });
    const lx = PLOT.left + PLOT.width - 150;
    parts.push(`<rect x="${lx}" y="${PLOT.top + si * 16 - 9}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${PLOT.top + si * 16}" font-size="11">${escapeXml(s.label)}</text>`);
  });
  parts.push(`<line x1="${PLOT.left}" x2="${PLOT.left + PLOT.width}" y1="${PLOT.top + PLOT.height}" y2="${PLOT.top + PLOT.height}" stroke="#999"/>`);
  for (let b = 0; b <= bins; b++) {
    parts.push(`<text x="${n(PLOT.left + b * binW)}" y="${PLOT.top + PLOT.height + 16}" font-size="11" text-anchor="middle">${(b / Math.max(1, bins)).toFixed(1)}</text>`);
  }
  parts.push(`<text x="${PLOT.left + PLOT.width / 2}" y="${PLOT.top + PLOT.height + 36}" font-size="12" text-anchor="middle">top-class confidence</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(title)}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>`;
}

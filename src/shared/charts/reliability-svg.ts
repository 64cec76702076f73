import { n } from './svg.js';

/** One confidence bin of a reliability diagram (the shape of src/ml/calibration's ReliabilityBin). */
export interface ReliabilityPoint {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** Mean confidence of the bin's predictions. */
  readonly confidence: number;
  /** Share of the bin's predictions that were right. */
  readonly accuracy: number;
}

const S = 300;
const PLOT = { left: 56, top: 44, size: S - 20 };
const W = PLOT.left + PLOT.size + 24;
const H = PLOT.top + PLOT.size + 46;

/**
 * A reliability diagram as SVG: per non-empty confidence bin, a bar as high as the bin's
 * accuracy, a dot at its mean confidence, and the diagonal where a calibrated model's bars
 * would end; bars below the diagonal are overconfident. The title carries the expected
 * calibration error.
 */
export function renderReliabilitySvg(bins: readonly ReliabilityPoint[], ece: number): string {
  const xs = (v: number): number => PLOT.left + v * PLOT.size;
  const ys = (v: number): number => PLOT.top + PLOT.size - v * PLOT.size;
  const title = `Reliability (ECE ${(ece * 100).toFixed(1)}%)`;
  const parts: string[] = [`<text x="${PLOT.left}" y="24" font-size="16" font-weight="bold">${title}</text>`];
  parts.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.size}" height="${PLOT.size}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = i / 4;
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.left + PLOT.size}" y1="${n(ys(v))}" y2="${n(ys(v))}" stroke="#eee"/>`);
    parts.push(`<text x="${PLOT.left - 6}" y="${n(ys(v) + 4)}" font-size="11" text-anchor="end">${v.toFixed(2)}</text>`);
    parts.push(`<text x="${n(xs(v))}" y="${PLOT.top + PLOT.size + 16}" font-size="11" text-anchor="middle">${v.toFixed(2)}</text>`);
  }
  for (const b of bins.filter((x) => x.count > 0)) {
    const gapFill = b.accuracy < b.confidence ? '#f4b6b6' : '#b6dcf4';
    parts.push(`<rect class="bin" x="${n(xs(b.from))}" y="${n(ys(b.accuracy))}" width="${n(xs(b.to) - xs(b.from))}" height="${n(ys(0) - ys(b.accuracy))}" fill="#4a78c2" stroke="white"><title>${b.from.toFixed(2)}–${b.to.toFixed(2)}: ${b.count} predictions, accuracy ${(b.accuracy * 100).toFixed(1)}%, mean confidence ${(b.confidence * 100).toFixed(1)}%</title></rect>`);
    parts.push(`<rect x="${n(xs(b.from))}" y="${n(ys(Math.max(b.accuracy, b.confidence)))}" width="${n(xs(b.to) - xs(b.from))}" height="${n(Math.abs(ys(b.accuracy) - ys(b.confidence)))}" fill="${gapFill}" opacity="0.7"/>`);
    parts.push(`<circle cx="${n(xs(b.confidence))}" cy="${n(ys(b.confidence))}" r="2.5" fill="#222"/>`);
  }
  parts.push(`<line x1="${n(xs(0))}" y1="${n(ys(0))}" x2="${n(xs(1))}" y2="${n(ys(1))}" stroke="#888" stroke-dasharray="5 4"/>`);
  parts.push(`<text x="${PLOT.left + PLOT.size / 2}" y="${PLOT.top + PLOT.size + 34}" font-size="12" text-anchor="middle">confidence</text>`);
  parts.push(`<text x="14" y="${PLOT.top + PLOT.size / 2}" font-size="12" transform="rotate(-90 14 ${PLOT.top + PLOT.size / 2})" text-anchor="middle">accuracy</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>`;
}

import { escapeXml, n } from './svg.js';

/**
 * The confusion matrix as SVG: rows are actual classes, columns predicted, each cell shaded by
 * its share of its row (recall per class on the diagonal) and labelled with its count.
 */
export function renderConfusionSvg(classes: readonly string[], matrix: readonly (readonly number[])[]): string {
  const k = classes.length;
  const cell = Math.max(28, Math.min(90, Math.floor(540 / Math.max(1, k))));
  const labelW = 140;
  const top = 70;
  const width = Math.max(labelW + k * cell + 30, 480);
  const height = top + k * cell + 50;
  const parts: string[] = [];
  parts.push(`<text x="10" y="22" font-size="16" font-weight="bold">Confusion matrix (test split)</text>`);
  parts.push(`<text x="${n(labelW + (k * cell) / 2)}" y="${top - 28}" font-size="12" text-anchor="middle">predicted</text>`);
  parts.push(`<text x="14" y="${n(top + (k * cell) / 2)}" font-size="12" transform="rotate(-90 14 ${n(top + (k * cell) / 2)})" text-anchor="middle">actual</text>`);
  classes.forEach((c, i) => {
    const short = c.length > 16 ? `${c.slice(0, 15)}…` : c;
    parts.push(`<text x="${n(labelW + i * cell + cell / 2)}" y="${top - 8}" font-size="11" text-anchor="middle">${escapeXml(short)}</text>`);
    parts.push(`<text x="${labelW - 6}" y="${n(top + i * cell + cell / 2 + 4)}" font-size="11" text-anchor="end">${escapeXml(short)}</text>`);
  });
  matrix.forEach((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, c) => {
      const share = total === 0 ? 0 : count / total;
      const shade = Math.round(255 - share * 200);
      const fill = r === c ? `rgb(${shade},${Math.round(255 - share * 120)},${shade})` : `rgb(255,${shade},${shade})`;
      const x = labelW + c * cell;
      const y = top + r * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#888"/>`);
      parts.push(`<text x="${n(x + cell / 2)}" y="${n(y + cell / 2 + 5)}" font-size="${cell > 40 ? 14 : 10}" text-anchor="middle">${count}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Confusion matrix" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>`;
}

import sharp from 'sharp';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import { renderConfusionSvg } from '../../shared/charts/confusion-svg.js';
import { renderCurvesSvg } from '../../shared/charts/curves-svg.js';
import { renderReportHtml, type ReportInput } from './report-html.js';

export const REPORT_FILES = { html: 'report/index.html', curves: 'report/curves.png', confusion: 'report/confusion.png' } as const;

/** Renders an SVG document to PNG bytes with sharp (librsvg). */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 96 }).png().toBuffer();
}

/** Writes `report/` (index.html, curves.png, confusion.png) under the artifact prefix. */
export async function writeReport(storage: Storage, input: ReportInput): Promise<void> {
  const [curves, confusion] = await Promise.all([
    svgToPng(renderCurvesSvg(input.history, input.bestEpoch)),
    svgToPng(renderConfusionSvg(input.metadata.classes, input.metrics.confusionMatrix)),
  ]);
  await storage.write(joinUri(input.artifactUri, REPORT_FILES.curves), curves, { contentType: 'image/png' });
  await storage.write(joinUri(input.artifactUri, REPORT_FILES.confusion), confusion, { contentType: 'image/png' });
  await storage.write(joinUri(input.artifactUri, REPORT_FILES.html), renderReportHtml(input), { contentType: 'text/html; charset=utf-8' });
}

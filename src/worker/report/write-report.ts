import sharp from 'sharp';
import type { Logger } from '../../shared/logger.js';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import { renderConfusionSvg } from '../../shared/charts/confusion-svg.js';
import { renderCurvesSvg } from '../../shared/charts/curves-svg.js';
import { renderHistogramSvg } from '../../shared/charts/histogram-svg.js';
import { renderReliabilitySvg } from '../../shared/charts/reliability-svg.js';
import type { ConfidentMistake } from './confident-mistakes.js';
import { renderReportHtml, type ReportInput } from './report-html.js';
import { writeThumbnails, type ThumbnailSource } from './thumbnails.js';

export const REPORT_FILES = {
  html: 'report/index.html',
  curves: 'report/curves.png',
  confusion: 'report/confusion.png',
  confidence: 'report/confidence.png',
  reliability: 'report/reliability.png',
} as const;

/** Renders an SVG document to PNG bytes with sharp (librsvg). */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 96 }).png().toBuffer();
}

/** The test split's most confident mistakes (at most 12 shown), each with where its thumbnail comes from. */
export interface ReportMistakes {
  readonly mistakes: readonly ConfidentMistake[];
  readonly sources: readonly ThumbnailSource[];
  /** Every mistake on the test split, shown or not. */
  readonly wrong: number;
}

/**
 * Writes `report/` under the artifact prefix: index.html; curves, confusion matrix, confidence
 * histogram and (with calibration) reliability diagram as PNG; and with `mistakes`, one
 * thumbnail per mistake under report/mistakes/.
 */
export async function writeReport(storage: Storage, input: Omit<ReportInput, 'mistakes'>, options: { mistakes?: ReportMistakes; logger?: Logger } = {}): Promise<void> {
  const write = (file: string, png: Buffer): Promise<void> => storage.write(joinUri(input.artifactUri, file), png, { contentType: 'image/png' });
  const charts: [string, string][] = [
    [REPORT_FILES.curves, renderCurvesSvg(input.history, input.bestEpoch)],
    [REPORT_FILES.confusion, renderConfusionSvg(input.metadata.classes, input.metrics.confusionMatrix)],
    [REPORT_FILES.confidence, renderHistogramSvg('Confidence on the test split', [{ label: 'test split', color: '#4a78c2', counts: input.metrics.confidenceHistogram }])],
  ];
  if (input.calibration) charts.push([REPORT_FILES.reliability, renderReliabilitySvg(input.calibration.bins, input.calibration.ece)]);
  for (const [file, svg] of charts) await write(file, await svgToPng(svg));
  let mistakes: ReportInput['mistakes'];
  if (options.mistakes) {
    const paths = await writeThumbnails(storage, joinUri(input.artifactUri, 'report'), options.mistakes.sources, options.logger);
    mistakes = { shown: options.mistakes.mistakes.map((m, i) => ({ ...m, thumbnail: paths[i] as string })), wrong: options.mistakes.wrong };
  }
  await storage.write(joinUri(input.artifactUri, REPORT_FILES.html), renderReportHtml({ ...input, ...(mistakes ? { mistakes } : {}) }), { contentType: 'text/html; charset=utf-8' });
}

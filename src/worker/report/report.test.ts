import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { ModelMetadata } from '../../ml/metadata.js';
import { createFileStorage } from '../../shared/storage/index.js';
import { mostConfidentMistakes } from './confident-mistakes.js';
import { renderConfusionSvg } from '../../shared/charts/confusion-svg.js';
import { renderCurvesSvg } from '../../shared/charts/curves-svg.js';
import { renderReportHtml, type ReportInput } from './report-html.js';
import { svgToPng, writeReport } from './write-report.js';

const history = [1, 2, 3].map((epoch) => ({ epoch, epochs: 3, loss: 1 / epoch, accuracy: 0.5 + epoch / 10, valLoss: 1.1 / epoch, valAccuracy: 0.5 + epoch / 12, imagesPerSecond: 40, seconds: 2 }));

describe('report', () => {
  it('renders training curves and the confusion matrix to PNG', async () => {
    const curves = await svgToPng(renderCurvesSvg(history, 3));
    const confusion = await svgToPng(renderConfusionSvg(['cat', 'dog<script>'], [[40, 10], [5, 45]]));
    for (const png of [curves, confusion]) {
      const meta = await sharp(png).metadata();
      expect(meta.format).to.equal('png');
      expect(meta.width).to.be.greaterThan(300);
    }
    const svg = renderConfusionSvg(['cat', 'dog<script>'], [[40, 10], [5, 45]]);
    expect(svg).to.include('dog&lt;script&gt;');
    expect(svg).to.match(/>45</);
  });

  const metadata: ModelMetadata = {
      schemaVersion: 1, format: 'tfjs-layers', classes: ['cat', 'dog'], inputShape: [96, 96, 3], preprocessing: { resize: 'cover', size: 96, scale: 1 / 255 },
      dataset: { uri: 'gs://b/d', digest: 'd'.repeat(64) }, hyperparameters: { epochs: 3 }, architecture: 'compact-cnn', backend: 'wasm',
      codeVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z', sha256: 'a'.repeat(64), weightsBytes: 10,
  };
  const input: ReportInput = {
      artifactUri: 'gs://b/m/v1', metadata, history, bestEpoch: 3, stoppedEarly: false, trainingSeconds: 12.3, splits: { train: 80, validation: 10, test: 10 },
      metrics: {
        accuracy: 0.85, precision: 0.86, recall: 0.85, f1: 0.85, rocAuc: 0.9, testImages: 100, perClass: { cat: { precision: 0.8, recall: 0.9, f1: 0.85, support: 50 }, dog: { precision: 0.9, recall: 0.8, f1: 0.85, support: 50 } },
        confusionMatrix: [[45, 5], [10, 40]], confidenceHistogram: [0, 0, 0, 0, 0, 10, 10, 20, 30, 30], meanConfidence: 0.8,
      },
      skipped: [{ name: 'cat/<bad>.jpg', reason: 'corrupt', message: 'truncated' }],
      duplicates: [{ name: 'dog/b.jpg', duplicateOf: 'dog/a.jpg' }],
      ignored: ['README.md'],
  };

  it('renders an HTML page with metrics, charts and skipped files, escaping names', () => {
    const html = renderReportHtml(input);
    for (const s of ['curves.png', 'confusion.png', 'Accuracy 85.0%', 'cat/&lt;bad&gt;.jpg', 'dog/a.jpg', 'README.md', 'a'.repeat(64), 'Skipped files (1)']) expect(html).to.include(s);
    expect(html).to.not.include('<bad>');
  });

  it('writes every chart, the calibration and the most confident mistakes with thumbnails', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-report-'));
    try {
      const artifactUri = pathToFileURL(dir).href;
      const calibration = { ece: 0.08, bins: [{ from: 0.6, to: 0.7, count: 20, confidence: 0.65, accuracy: 0.55 }, { from: 0.9, to: 1, count: 80, confidence: 0.95, accuracy: 0.9 }] };
      const names = ['cat/<x>.jpg', 'dog/y.jpg', 'cat/z.jpg'];
      const { mistakes, wrong } = mostConfidentMistakes([0, 1, 0], new Float32Array([0.2, 0.8, 0.9, 0.1, 0.7, 0.3]), ['cat', 'dog'], names);
      const sources = mistakes.map(() => ({ read: () => Promise.resolve(undefined), pixels: new Uint8Array(4 * 4 * 3).fill(90), side: 4 }));
      await writeReport(createFileStorage(), { ...input, artifactUri, calibration }, { mistakes: { mistakes, wrong, sources } });
      expect((await readdir(path.join(dir, 'report'))).sort()).to.deep.equal(['confidence.png', 'confusion.png', 'curves.png', 'index.html', 'mistakes', 'reliability.png']);
      expect(await readdir(path.join(dir, 'report', 'mistakes'))).to.deep.equal(['01.jpg', '02.jpg']);
      const html = await readFile(path.join(dir, 'report', 'index.html'), 'utf8');
      for (const s of ['src="confidence.png"', 'src="reliability.png"', 'Most confident mistakes (2 of 2 wrong on 100 test images)', 'src="mistakes/01.jpg"', 'cat/&lt;x&gt;.jpg', 'Expected calibration error on the test split: <b>8.0%</b>']) expect(html).to.include(s);
      expect(html.indexOf('dog/y.jpg'), 'most confident first').to.be.lessThan(html.indexOf('cat/&lt;x&gt;.jpg'));
      expect(html).to.not.include('<x>');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { run as train } from '../../../src/worker/train/command.js';
import { run as compare } from '../../../src/worker/compare/command.js';
import type { Comparison } from '../../../src/worker/compare/comparison.js';
import { captureStream } from './capture.js';
import { writeSyntheticDataset } from './synthetic-dataset.js';
import { tinyFit } from './tiny-fit.js';
import { collectPageErrors, launchChromium, saveScreenshot, unnamedControls } from '../../harness/chromium.js';

const BASE_ARGS = { architecture: 'compact-cnn', imageSize: '32', batchSize: '8', backend: 'cpu', patience: '0', split: '0.7,0.1,0.2' };

interface MetricsJson {
  accuracy: number;
  f1: number;
  perClass: Record<string, { recall: number }>;
  confusionMatrix: number[][];
  training: { history: unknown[] };
}

/**
 * `kennel compare` on two models really trained by `kennel train` (the tiny network of
 * tiny-fit.ts on a generated two-class dataset, two different recipes), and its HTML page in a
 * real headless Chromium: the overlaid curves and both confusion matrices render, with names
 * for screen readers and no console errors.
 */
describe('kennel compare on two trained models', function () {
  this.timeout(300_000);
  let dir: string;
  let a: string;
  let b: string;
  let metrics: [MetricsJson, MetricsJson];

  const runCompare = async (args: string[], opts: Record<string, unknown>) => {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await compare(args, opts, { stdout: stdout.stream, stderr: stderr.stream, env: {} });
    expect(code, stderr.text()).to.equal(0);
    return stdout.text();
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-compare-it-'));
    const data = path.join(dir, 'data');
    await writeSyntheticDataset(data, { perClass: 20, size: 32 });
    a = pathToFileURL(path.join(dir, 'models', 'a')).href;
    b = pathToFileURL(path.join(dir, 'models', 'b')).href;
    const recipes = [[a, { epochs: '2', learningRate: '0.01' }], [b, { epochs: '4', learningRate: '0.05' }]] as const;
    for (const [out, recipe] of recipes) {
      const stderr = captureStream();
      const code = await train({ ...BASE_ARGS, ...recipe, data, out }, { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: {} });
      expect(code, stderr.text()).to.equal(0);
    }
    const read = async (uri: string) => JSON.parse(await readFile(path.join(new URL(uri).pathname, 'metrics.json'), 'utf8')) as MetricsJson;
    metrics = [await read(a), await read(b)];
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints both models side by side with the deltas of the second against the first', async () => {
    const parsed = JSON.parse(await runCompare([a, b], { output: 'json' })) as Comparison;
    expect(parsed.models.map((m) => m.label)).to.deep.equal(['a', 'b']);
    const accuracy = parsed.metrics.find((r) => r.key === 'accuracy');
    expect(accuracy?.values).to.deep.equal([metrics[0].accuracy, metrics[1].accuracy]);
    expect(accuracy?.deltas[1]).to.be.closeTo(metrics[1].accuracy - metrics[0].accuracy, 1e-12);
    expect(parsed.metrics.find((r) => r.key === 'ece')?.values.every((v) => typeof v === 'number')).to.equal(true);
    const dark = parsed.perClass.find((k) => k.className === 'dark');
    expect(dark?.recall.values).to.deep.equal([metrics[0].perClass.dark?.recall, metrics[1].perClass.dark?.recall]);
    expect(parsed.hyperparameters.find((h) => h.key === 'epochs')).to.deep.include({ values: [2, 4], differs: true });
    expect(parsed.hyperparameters.find((h) => h.key === 'imageSize')).to.deep.include({ values: [32, 32], differs: false });
    expect(parsed.lineage.find((l) => l.key === 'datasetDigest')?.differs).to.equal(false);
    expect(parsed.models.map((m) => m.curves?.length)).to.deep.equal([2, 4]);
    expect(parsed.notes).to.deep.equal([]);

    const text = await runCompare([a, b], {});
    expect(text).to.match(new RegExp(`accuracy\\s+${(metrics[0].accuracy * 100).toFixed(1)}%\\s+${(metrics[1].accuracy * 100).toFixed(1)}% \\([+−±]`));
    expect(text).to.match(/\* epochs\s+2\s+4/);
  });

  describe('the HTML comparison page in a real Chromium', () => {
    let browser: Browser;
    before(async function () {
      browser = await launchChromium(this);
    });
    after(async () => {
      await browser?.close();
    });

    it('overlays both models\' curves and shows both confusion matrices, with no console errors', async () => {
      const html = path.join(dir, 'compare.html');
      await runCompare([a, b], { html });
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors = collectPageErrors(page);
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      await page.goto(pathToFileURL(html).href);

      // Curves: per model, a validation and a training line in each panel (loss and accuracy).
      for (const label of ['a', 'b']) {
        for (const series of ['validation', 'train']) {
          const lines = page.locator(`#curves polyline[data-model="${label}"][data-series="${series}"]`);
          expect(await lines.count(), `${label} ${series}`).to.equal(2);
          const box = await lines.first().boundingBox();
          expect(box?.width, `${label} ${series} is drawn`).to.be.greaterThan(50);
        }
      }
      // Model b trained twice as many epochs: its line spans the whole axis, a's half of it.
      const width = async (label: string) => (await page.locator(`#curves polyline[data-model="${label}"][data-series="validation"]`).first().boundingBox())?.width ?? 0;
      expect(await width('a')).to.be.lessThan((await width('b')) * 0.5);

      // Confusion matrices side by side, each cell labelled with the count from metrics.json.
      const figures = page.locator('#confusion figure.confusion');
      expect(await figures.count()).to.equal(2);
      const boxes = await Promise.all([0, 1].map((i) => figures.nth(i).boundingBox()));
      expect(boxes[1]?.y, 'side by side on a wide screen').to.be.closeTo(boxes[0]?.y ?? -1, 2);
      for (const [i, label] of ['a', 'b'].entries()) {
        const svg = page.getByRole('img', { name: `Confusion matrix of ${label} on its test split` });
        expect(await svg.count()).to.equal(1);
        const counts = await figures.nth(i).locator('svg text').allTextContents();
        for (const row of metrics[i]?.confusionMatrix ?? []) for (const c of row) expect(counts).to.include(String(c));
      }
      expect(await page.getByRole('img', { name: /^Training curves of a, b/ }).count()).to.equal(1);

      const accuracyCells = await page.locator('#metrics tr[data-metric="accuracy"] td').allTextContents();
      expect(accuracyCells[0]).to.equal(`${(metrics[0].accuracy * 100).toFixed(1)}%`);
      expect(accuracyCells[1]).to.match(/^\d+\.\d% [+−±]\d+\.\d pp$/);
      expect(await page.locator('#hyperparameters tr.differs th').allTextContents()).to.include.members(['epochs', 'learningRate']);

      await saveScreenshot(page, 'compare-page');
      expect(await unnamedControls(page)).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
      expect(requests, 'the page is self-contained').to.deep.equal([]);
      await page.close();
    });
  });
});

import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { run as train } from '../../../src/worker/train/command.js';
import { collectPageErrors, horizontalOverflow, launchChromium, PHONE, saveScreenshot, unnamedControls } from '../../harness/chromium.js';
import { PHOTOS_DIR, requirePhotos } from '../serve/helpers.js';
import { captureStream } from './capture.js';
import { tinyFit } from './tiny-fit.js';

/**
 * The training report of a real (tiny, so quickly trained and often wrong) model on real
 * photos, opened in a real headless Chromium: every chart loads, the most confident mistakes
 * are thumbnails of the user's own photos with their probabilities, nothing scrolls sideways on
 * a phone, no console error.
 */
describe('kennel train: the report in a real headless Chromium', function () {
  this.timeout(300_000);
  let dir: string;
  let reportUrl: string;
  let browser: Browser;

  before(async function () {
    requirePhotos(this);
    browser = await launchChromium(this);
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-report-it-'));
    // A copy of 24 photos per class in a temporary folder (never in the repository).
    for (const cls of ['cat', 'dog']) {
      await mkdir(path.join(dir, 'data', cls), { recursive: true });
      const names = (await readdir(path.join(PHOTOS_DIR, cls))).filter((f) => f.endsWith('.jpg')).sort().slice(0, 24);
      for (const name of names) await copyFile(path.join(PHOTOS_DIR, cls, name), path.join(dir, 'data', cls, name));
    }
    const out = pathToFileURL(path.join(dir, 'model')).href;
    const stderr = captureStream();
    const args = { data: path.join(dir, 'data'), out, architecture: 'compact-cnn', epochs: '2', imageSize: '32', batchSize: '8', backend: 'cpu', patience: '0', learningRate: '0.01', split: '0.5,0.1,0.4' };
    const code = await train(args, { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: {} });
    expect(code, stderr.text()).to.equal(0);
    reportUrl = `${out}/report/index.html`;
  });
  after(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the per-class table, every chart and the most confident mistakes as thumbnails', async () => {
    const metrics = JSON.parse(await readFile(path.join(dir, 'model', 'metrics.json'), 'utf8')) as { testImages: number; accuracy: number };
    const wrong = Math.round(metrics.testImages * (1 - metrics.accuracy));
    expect(wrong, 'a tiny model at 32 px gets some of the test photos wrong').to.be.greaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = collectPageErrors(page);
    await page.goto(reportUrl);
    await page.waitForLoadState('load');
    // Every image on the page (charts and thumbnails) decoded, none broken.
    const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, alt: i.alt })));
    expect(images.filter((i) => !i.ok), 'broken images').to.deep.equal([]);
    for (const id of ['confusion', 'curves', 'confidence', 'reliability']) expect(await page.isVisible(`img#${id}`), id).to.equal(true);
    expect(await page.locator('table').first().locator('tr').count(), 'per-class table: a header and cat, dog').to.equal(3);

    const shown = Math.min(12, wrong);
    expect(await page.textContent('#mistakes')).to.include(`(${shown} of ${wrong} wrong on ${metrics.testImages} test images)`);
    const figures = page.locator('figure.mistake');
    expect(await figures.count()).to.equal(shown);
    const confidences: number[] = [];
    for (let i = 0; i < shown; i++) {
      const fig = figures.nth(i);
      const name = (await fig.getAttribute('data-name')) ?? '';
      expect(name).to.match(/^(cat|dog)\/(cat|dog)-\d+\.jpg$/);
      const actual = name.split('/')[0] as string;
      const caption = (await fig.locator('figcaption').textContent()) ?? '';
      expect(caption).to.include(`actual ${actual}`).and.include(`predicted ${actual === 'cat' ? 'dog' : 'cat'}`);
      expect(await fig.locator('.probs li').count()).to.equal(2);
      expect(await fig.locator('img').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).to.deep.equal([160, 160]);
      confidences.push(Number(/predicted \w+ ([\d.]+)%/.exec(caption)?.[1]));
    }
    expect(confidences, 'most confident first').to.deep.equal([...confidences].sort((a, b) => b - a));
    expect(confidences.every((c) => c >= 50)).to.equal(true);
    expect(await unnamedControls(page)).to.deep.equal([]);
    await saveScreenshot(page, 'report-desktop');
    expect(errors).to.deep.equal([]);
  });

  it('fits a phone-sized screen', async () => {
    const page = await browser.newPage({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const errors = collectPageErrors(page);
    await page.goto(reportUrl);
    await page.waitForLoadState('load');
    expect(await horizontalOverflow(page), 'nothing scrolls sideways').to.be.at.most(0);
    const curves = await page.locator('img#curves').boundingBox();
    expect(curves?.width).to.be.at.most(PHONE.width);
    await saveScreenshot(page, 'report-phone');
    expect(errors).to.deep.equal([]);
  });
});

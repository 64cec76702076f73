import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { run as train } from '../../../src/worker/train/command.js';
import { collectPageErrors, horizontalOverflow, launchChromium, PHONE, saveScreenshot, unnamedControls } from '../../harness/chromium.js';
import { captureStream } from '../worker/capture.js';
import { tinyFit } from '../worker/tiny-fit.js';
import { PHOTOS_DIR, requirePhotos, startTestServer, type TestServer } from './helpers.js';

interface Answer {
  label: string;
  confidence: number;
  predictionId: string;
  probabilities: Record<string, number>;
}

/**
 * The try-it page of a real server serving a really trained (tiny) model with its own
 * metrics.json, in a real headless Chromium: the answer as bars, the name and version, the
 * evaluation as the report shows it, the live panel following requests and feedback, a phone's
 * screen, no console error, accessible names, nothing fetched from elsewhere.
 */
describe('kennel serve: the try-it page in a real headless Chromium', function () {
  this.timeout(300_000);
  let dir: string;
  let modelUri: string;
  let server: TestServer;
  let browser: Browser;

  before(async function () {
    requirePhotos(this);
    browser = await launchChromium(this);
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-page-it-'));
    for (const cls of ['cat', 'dog']) {
      await mkdir(path.join(dir, 'data', cls), { recursive: true });
      const names = (await readdir(path.join(PHOTOS_DIR, cls))).filter((f) => f.endsWith('.jpg')).sort().slice(0, 16);
      for (const name of names) await copyFile(path.join(PHOTOS_DIR, cls, name), path.join(dir, 'data', cls, name));
    }
    // A local folder named `model`, as `kennel train --out ./model` leaves it.
    modelUri = pathToFileURL(path.join(dir, 'model')).href;
    const stderr = captureStream();
    const args = { data: path.join(dir, 'data'), out: modelUri, epochs: '2', imageSize: '32', batchSize: '8', backend: 'cpu', patience: '0', learningRate: '0.01', split: '0.5,0.1,0.4' };
    expect(await train(args, { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: {} }), stderr.text()).to.equal(0);
    // As the operator runs it: the ModelVersion's model name and version.
    server = await startTestServer(modelUri, { modelName: 'pets', modelVersion: '7' });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const open = async (viewport: { width: number; height: number }, options: { isMobile?: boolean } = {}): Promise<{ page: Page; errors: string[]; external: string[] }> => {
    const page = await browser.newPage({ viewport, ...(options.isMobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
    const errors = collectPageErrors(page);
    const external: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(server.url) && !req.url().startsWith('blob:') && !req.url().startsWith('data:')) external.push(req.url());
    });
    await page.goto(`${server.url}/?refresh=1`);
    await page.waitForFunction(() => document.getElementById('model-state')?.textContent === 'ready');
    return { page, errors, external };
  };
  const imageLoaded = (page: Page, selector: string): Promise<boolean> => page.locator(selector).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0);

  it('shows the version, the evaluation as the report does, the answer as bars and the live panel', async () => {
    const metrics = JSON.parse(await readFile(path.join(dir, 'model', 'metrics.json'), 'utf8')) as { accuracy: number; perClass: Record<string, { support: number }> };
    const { page, errors, external } = await open({ width: 1000, height: 800 });
    expect(await page.textContent('#model-name')).to.equal('pets');
    expect(await page.textContent('#model-version')).to.equal('7');
    expect(await page.textContent('#model-artifact')).to.match(/trained \d{4}-\d\d-\d\dT.* · weights sha256 [0-9a-f]{12}…/);

    // The evaluation: headline figures, the per-class table, the report's charts; no key dump.
    const evaluation = (await page.textContent('#evaluation')) ?? '';
    expect(evaluation).to.include(`accuracy ${(Math.round(metrics.accuracy * 1000) / 10).toFixed(1)}%`);
    expect(evaluation).to.not.match(/perClass\.|split\.fractions/);
    const rows = await page.$$eval('#per-class tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent)));
    expect(rows.map((r) => r[0])).to.deep.equal(['cat', 'dog']);
    expect(rows.map((r) => r[4])).to.deep.equal([String(metrics.perClass.cat?.support), String(metrics.perClass.dog?.support)]);
    for (const r of rows) for (const cell of r.slice(1, 4)) expect(cell).to.match(/^\d+\.\d%$/);
    for (const chart of ['confusion', 'curves', 'reliability']) {
      await page.waitForFunction((id) => { const img = document.getElementById(id) as HTMLImageElement | null; return Boolean(img?.complete && img.naturalWidth > 0); }, `chart-${chart}`);
    }

    // The live panel starts at zero.
    await page.waitForFunction(() => document.getElementById('live-requests')?.textContent === '0');
    expect(await page.textContent('#live-accuracy')).to.equal('—');
    expect(await page.locator('#live-labels .bar').count()).to.equal(2);

    // A photo: the answer as one bar per class, most probable first.
    const answered = page.waitForResponse((res) => res.url().endsWith('/predict') && res.request().method() === 'POST');
    await page.setInputFiles('#file', path.join(PHOTOS_DIR, 'dog', 'dog-01400.jpg'));
    const response = await answered;
    expect(response.status()).to.equal(200);
    const served = (await response.json()) as Answer;
    await page.waitForFunction((label) => document.getElementById('label')?.textContent === label, served.label);
    expect(await page.textContent('#confidence')).to.equal(`confidence ${(Math.round(served.confidence * 1000) / 10).toFixed(1)}%`);
    expect(await page.locator('#bars .bar').count()).to.equal(2);
    expect(await page.locator('#bars .bar').first().getAttribute('data-class')).to.equal(served.label);
    const width = await page.locator(`#bars .bar[data-class="${served.label}"] .fill`).evaluate((f: HTMLElement) => f.style.width);
    expect(Number.parseFloat(width)).to.be.closeTo(served.confidence * 100, 0.1);
    expect(await page.isVisible('#preview')).to.equal(true);

    // Feedback through the API: the live panel counts the request, its label and the live accuracy.
    const fb = await fetch(`${server.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ predictionId: served.predictionId, label: 'dog' }) });
    expect(fb.status).to.equal(200);
    await page.waitForFunction(() => document.getElementById('live-requests')?.textContent === '1' && document.getElementById('live-accuracy')?.textContent !== '—');
    expect(await page.textContent('#live-accuracy')).to.equal(served.label === 'dog' ? '100.0%' : '0.0%');
    expect(await page.textContent('#live-feedback')).to.include('1 prediction confirmed or corrected').and.include('test split accuracy');
    expect(await page.textContent(`#live-labels .bar[data-class="${served.label}"] span:last-child`)).to.equal('1 · 100.0%');
    expect(await imageLoaded(page, '#live-confidence')).to.equal(true);
    const live = (await (await fetch(`${server.url}/api/live`)).json()) as { confidence: { live: number[]; baseline: number[] | null } };
    expect(live.confidence.live.reduce((a, b) => a + b, 0)).to.equal(1);
    expect(live.confidence.baseline).to.have.length(10);

    // The one control besides the file input pauses the refresh, and says so.
    await page.click('#live-toggle');
    expect(await page.getAttribute('#live-toggle', 'aria-pressed')).to.equal('true');
    expect(await page.textContent('#live-toggle')).to.equal('Resume updates');
    expect(await page.getByRole('button', { name: 'Resume updates' }).count()).to.equal(1);
    expect(await page.getByLabel('Choose a photo to classify', { exact: true }).count()).to.equal(1);
    expect(await unnamedControls(page)).to.deep.equal([]);

    await saveScreenshot(page, 'serve-page-desktop');
    expect(external, 'the page must not fetch anything from elsewhere').to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    const logged = server.logs.requests().filter((l) => l.route === 'predict' && l.status === 200);
    expect(logged.some((l) => l.label === served.label)).to.equal(true);
    // The page's polls and charts have their own route labels, so they never count as page views.
    const routes = new Set(server.logs.requests().map((l) => l.route));
    expect([...routes]).to.include.members(['page', 'info', 'live', 'charts', 'predict', 'feedback']);
    const exposed = await (await fetch(`${server.url}/metrics`)).text();
    const pageViews = Number(exposed.match(/^kennel_serve_requests_total\{[^}]*route="page",status="200"\} (\d+)/m)?.[1]);
    const livePolls = Number(exposed.match(/^kennel_serve_requests_total\{[^}]*route="live",status="200"\} (\d+)/m)?.[1]);
    expect(pageViews, 'GET / once per page opened').to.equal(1);
    expect(livePolls).to.be.greaterThan(0);
  });

  it('works on a phone-sized screen: one column, nothing scrolls sideways', async () => {
    const { page, errors } = await open(PHONE, { isMobile: true });
    await page.waitForFunction(() => (document.getElementById('chart-curves') as HTMLImageElement | null)?.naturalWidth);
    expect(await horizontalOverflow(page)).to.be.at.most(0);
    const tryBox = await page.locator('#drop').boundingBox();
    const answerBox = await page.locator('#answer').boundingBox();
    expect(answerBox?.y, 'the answer sits below the photo').to.be.greaterThan((tryBox?.y ?? 0) + (tryBox?.height ?? 0));
    for (const id of ['#chart-curves', '#chart-confusion', '#live-confidence']) expect((await page.locator(id).boundingBox())?.width, id).to.be.at.most(PHONE.width);
    await page.setInputFiles('#file', path.join(PHOTOS_DIR, 'cat', 'cat-01400.jpg'));
    await page.waitForFunction(() => document.querySelectorAll('#bars .bar').length === 2);
    await saveScreenshot(page, 'serve-page-phone');
    expect(errors).to.deep.equal([]);
  });

  it('shows a readable error for a file that is not an image', async () => {
    const { page } = await open({ width: 1000, height: 800 });
    await page.setInputFiles('#file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('definitely not a jpeg') });
    await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').length > 0);
    expect(await page.textContent('#error')).to.match(/not a JPEG, PNG or WebP/);
    expect(await page.textContent('#label')).to.equal('—');
  });

  it('does not take a local folder name for a version', async () => {
    const local = await startTestServer(modelUri);
    try {
      const info = (await (await fetch(`${local.url}/api/model`)).json()) as { version: string; versionRecorded: boolean };
      expect(info).to.include({ version: 'model', versionRecorded: false });
      const page = await browser.newPage();
      await page.goto(local.url);
      await page.waitForFunction(() => document.getElementById('model-state')?.textContent === 'ready');
      expect(await page.textContent('#model-version')).to.equal('not recorded');
      expect(await page.textContent('#model-artifact')).to.include('a local artifact with no version');
    } finally {
      await local.stop();
    }
  });
});

import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createTinyArtifact, PHOTOS_DIR, requirePhotos, startTestServer, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('kennel serve: the try-it page in a real headless Chromium', function () {
  this.timeout(180_000);
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let browser: Browser;

  before(async function () {
    requirePhotos(this);
    if (!existsSync(CHROMIUM)) {
      console.log(`    skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
      this.skip();
    }
    const art = await createTinyArtifact({ evaluation: { accuracy: 0.912, f1: 0.905, rocAuc: 0.96, perClass: { cat: { recall: 0.9 }, dog: { recall: 0.924 } } } });
    cleanup = art.cleanup;
    server = await startTestServer(art.uri);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await cleanup?.();
  });

  it('shows the model version and evaluation, uploads a chosen photo and renders the answer', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    const external: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(server.url) && !req.url().startsWith('blob:') && !req.url().startsWith('data:')) external.push(req.url());
    });
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('model-version')?.textContent === 'v7');
    expect(await page.textContent('#model-name')).to.equal('pets');
    expect(await page.textContent('#model-state')).to.equal('ready');
    const evaluation = await page.textContent('#evaluation');
    expect(evaluation).to.include('accuracy').and.include('0.912').and.include('perClass.dog.recall');

    const photo = path.join(PHOTOS_DIR, 'dog', 'dog-00001.jpg');
    const answered = page.waitForResponse((res) => res.url().endsWith('/predict') && res.request().method() === 'POST');
    await page.setInputFiles('#file', photo);
    const response = await answered;
    expect(response.status()).to.equal(200);
    const served = (await response.json()) as { label: string; confidence: number; probabilities: Record<string, number> };
    await page.waitForFunction(() => ['cat', 'dog'].includes(document.getElementById('label')?.textContent ?? ''));
    expect(await page.textContent('#label')).to.equal(served.label);
    expect(await page.textContent('#confidence')).to.equal(`confidence ${(Math.round(served.confidence * 1000) / 10).toFixed(1)}%`);
    expect(await page.locator('#bars .bar').count()).to.equal(2);
    expect(await page.locator('#bars .bar[data-class="cat"] span').last().textContent()).to.match(/%$/);
    expect(await page.isVisible('#preview')).to.equal(true);

    const shot = path.join(tmpdir(), 'kennel-serve-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`    screenshot: ${shot}`);
    expect(external, 'the page must not fetch anything from elsewhere').to.deep.equal([]);
    expect(consoleErrors).to.deep.equal([]);

    // The request the page made is in the server's log, with its label.
    const logged = server.logs.requests().filter((l) => l.route === 'predict' && l.status === 200);
    expect(logged.some((l) => l.label === served.label)).to.equal(true);
  });

  it('shows a readable error for a file that is not an image', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.setInputFiles('#file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('definitely not a jpeg') });
    await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').length > 0);
    expect(await page.textContent('#error')).to.match(/not a JPEG, PNG or WebP/);
    expect(await page.textContent('#label')).to.equal('—');
  });
});

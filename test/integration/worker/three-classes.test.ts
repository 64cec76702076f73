import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { seededRandom } from '../../../src/shared/random.js';
import { startTestServer, multipart, type TestServer } from '../serve/helpers.js';

const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const CLASSES = ['checks', 'horizontal', 'vertical'] as const;
const SIDE = 64;

function kennel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

/** A generated photo of one of the three classes: horizontal stripes, vertical stripes or a checkerboard, random colours, period and noise. */
async function image(kind: (typeof CLASSES)[number], rng: () => number): Promise<Buffer> {
  const raw = Buffer.alloc(SIDE * SIDE * 3);
  const period = 6 + Math.floor(rng() * 6);
  const fg = [rng(), rng(), rng()].map((c) => 90 + c * 165);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const a = Math.floor(y / period) % 2;
      const b = Math.floor(x / period) % 2;
      const on = kind === 'horizontal' ? a === 0 : kind === 'vertical' ? b === 0 : a !== b;
      for (let c = 0; c < 3; c++) raw[(y * SIDE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round((on ? (fg[c] as number) : 25) + (rng() - 0.5) * 50)));
    }
  }
  return sharp(raw, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer();
}

/**
 * More than two classes, end to end with the default (pretrained) recipe: `kennel train` on a
 * three-folder dataset, `kennel evaluate`, and `kennel serve` answering with every class; the
 * metrics, the metadata and the report show all three.
 */
describe('three classes: train (pretrained default), evaluate, serve', function () {
  this.timeout(900_000);
  let dir: string;
  let data: string;
  let model: string;
  let server: TestServer | undefined;

  before(async function () {
    if (!existsSync(CLI)) {
      console.log(`    skipping: ${CLI} is absent (run npm run build first)`);
      this.skip();
    }
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-3class-'));
    data = path.join(dir, 'data');
    model = pathToFileURL(path.join(dir, 'model')).href;
    const rng = seededRandom(11);
    for (const c of CLASSES) {
      await mkdir(path.join(data, c), { recursive: true });
      for (let i = 0; i < 40; i++) await writeFile(path.join(data, c, `${i}.png`), await image(c, rng));
    }
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trains with the default architecture and records every class in metadata, metrics and report', async () => {
    const res = await kennel(['train', '--data', data, '--out', model, '--epochs', '2', '--image-size', String(SIDE), '--split', '0.6,0.2,0.2']);
    expect(res.code, res.stderr).to.equal(0);
    const root = fileURLToPath(model);
    const metadata = JSON.parse(await readFile(path.join(root, 'metadata.json'), 'utf8')) as { classes: string[]; architecture: string; pretrained?: { package: string } };
    expect(metadata.classes).to.deep.equal([...CLASSES]);
    expect(metadata.architecture).to.equal('mobilenet-v2');
    expect(metadata.pretrained?.package).to.equal('nsfwjs');
    const metrics = JSON.parse(await readFile(path.join(root, 'metrics.json'), 'utf8')) as { accuracy: number; perClass: Record<string, unknown>; confusionMatrix: number[][]; expectedCalibrationError: number };
    expect(Object.keys(metrics.perClass).sort()).to.deep.equal([...CLASSES]);
    expect(metrics.confusionMatrix).to.have.length(3);
    for (const row of metrics.confusionMatrix) expect(row).to.have.length(3);
    expect(metrics.accuracy, JSON.stringify(metrics.perClass)).to.be.at.least(0.8);
    expect(metrics.expectedCalibrationError).to.be.within(0, 1);
    const report = await readFile(path.join(root, 'report', 'index.html'), 'utf8');
    for (const c of CLASSES) expect(report).to.contain(`<td>${c}</td>`);
    expect(report).to.contain('Expected calibration error');
  });

  it('evaluates the artifact with every class', async () => {
    const res = await kennel(['evaluate', '--model', model, '--data', data, '--split', 'test', '--json']);
    expect(res.code, res.stderr).to.equal(0);
    const m = JSON.parse(res.stdout.trim()) as { perClass: Record<string, unknown>; testImages: number };
    expect(Object.keys(m.perClass).sort()).to.deep.equal([...CLASSES]);
    expect(m.testImages).to.be.above(10);
  });

  it('serves every class, and answers label null below --min-confidence', async () => {
    const ask = async (url: string, bytes: Buffer): Promise<{ label: string | null; confidence: number; probabilities: Record<string, number> }> => {
      const { body, contentType } = multipart([{ field: 'file', filename: 'x.png', type: 'image/png', bytes }]);
      const res = await fetch(`${url}/predict`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType } });
      expect(res.status).to.equal(200);
      return (await res.json()) as { label: string | null; confidence: number; probabilities: Record<string, number> };
    };
    const photo = await readFile(path.join(data, 'checks', '0.png'));
    // Flat grey: none of the three patterns.
    const grey = await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer();
    server = await startTestServer(model);
    const plain = await ask(server.url, photo);
    expect(Object.keys(plain.probabilities).sort()).to.deep.equal([...CLASSES]);
    expect(Object.values(plain.probabilities).reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-4);
    expect(plain.label).to.equal('checks');
    await server.stop();
    // At the highest threshold every answer short of certainty is unsure, and counted.
    server = await startTestServer(model, { minConfidence: 1 });
    const unsure = await ask(server.url, grey);
    expect(unsure.confidence).to.be.below(1);
    expect(unsure.label).to.equal(null);
    expect(Object.keys(unsure.probabilities).sort()).to.deep.equal([...CLASSES]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).to.match(/kennel_serve_unsure_predictions_total\{[^}]*\} 1\n/);
  });
});

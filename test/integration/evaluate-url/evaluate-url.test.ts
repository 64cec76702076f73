/**
 * `kennel evaluate --url` against a real `kennel serve` process, both started through the CLI:
 * a model with a known answer (dark → cat, bright → dog) and photos whose right answers are
 * known, so accuracy, per-class figures, error kinds and the exit code are all checked exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import sharp from 'sharp';
import { saveBrightnessModel } from './brightness-model.js';

const CLI = fileURLToPath(new URL('../../../src/cli.ts', import.meta.url));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const image = (value: number): Promise<Buffer> =>
  sharp(Buffer.alloc(24 * 24 * 3, value), { raw: { width: 24, height: 24, channels: 3 } })
    .jpeg()
    .toBuffer();

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kennel evaluate --url against kennel serve', function () {
  this.timeout(120_000);
  let dir: string;
  let serve: ChildProcess | undefined;
  let url: string;
  let serveLog = '';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-evaluate-url-'));
    const model = await saveBrightnessModel(path.join(dir, 'models'));
    // 8 cats: 6 dark (right), 2 bright (called dog); 6 dogs, all bright (right); 1 corrupt dog.
    await mkdir(path.join(dir, 'photos', 'cat'), { recursive: true });
    await mkdir(path.join(dir, 'photos', 'dog'), { recursive: true });
    for (let i = 0; i < 8; i++) await writeFile(path.join(dir, 'photos', 'cat', `c${i}.jpg`), await image(i < 6 ? 30 + i : 220));
    for (let i = 0; i < 6; i++) await writeFile(path.join(dir, 'photos', 'dog', `d${i}.jpg`), await image(200 + i));
    await writeFile(path.join(dir, 'photos', 'dog', 'zz-corrupt.jpg'), (await image(200)).subarray(0, 40));

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    serve = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--model', model, '--port', String(port), '--host', '127.0.0.1', '--workers', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serve.stdout?.on('data', (c: Buffer) => (serveLog += c.toString()));
    serve.stderr?.on('data', (c: Buffer) => (serveLog += c.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (serve.exitCode !== null || Date.now() > deadline) throw new Error(`kennel serve did not become ready:\n${serveLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((resolve) => serve?.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports accuracy, per-class figures, latency and errors by kind, and passes within the thresholds', async () => {
    const out = await runCli(['evaluate', '--url', url, '--data', path.join(dir, 'photos'), '--json', '--concurrency', '4', '--min-accuracy', '0.8', '--max-error-rate', '0.1']);
    expect(out.code, out.stderr).to.equal(0);
    const r = JSON.parse(out.stdout) as Record<string, unknown> & { perClass: { class: string; precision: number; recall: number }[]; latencyMs: { p50: number; p95: number; p99: number } };
    expect(r).to.include({ total: 15, answered: 14, correct: 12, failed: 1, accuracy: 0.8571, pass: true });
    expect(r.errors).to.deep.equal({ 'HTTP 400 ImageCorrupt': 1 });
    expect(r.versions).to.deep.equal({ v1: 14 });
    expect(r.confusion).to.deep.equal([
      [6, 2],
      [0, 6],
    ]);
    expect(r.perClass[0]).to.include({ class: 'cat', precision: 1, recall: 0.75 });
    expect(r.perClass[1]).to.include({ class: 'dog', precision: 0.75, recall: 1 });
    expect(r.latencyMs.p50).to.be.greaterThan(0);
    expect(r.latencyMs.p99).to.be.at.least(r.latencyMs.p95);
    expect(r.latencyMs.p95).to.be.at.least(r.latencyMs.p50);
  });

  it('exits 1 and says why when accuracy is below --min-accuracy or errors exceed the threshold', async () => {
    const out = await runCli(['evaluate', '--url', url, '--data', path.join(dir, 'photos'), '--min-accuracy', '0.9']);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.match(/accuracy 85\.7% \(12 of 14\)/);
    expect(out.stdout).to.match(/HTTP 400 ImageCorrupt/);
    expect(out.stdout).to.match(/FAIL: error rate 0\.0667 \(1 of 15\) is above --max-error-rate 0; accuracy 0\.8571 .* below --min-accuracy 0\.9/);
  });

  it('counts a service that is down as connection errors and fails', async () => {
    const port = await freePort();
    const out = await runCli(['evaluate', '--url', `http://127.0.0.1:${port}`, '--data', path.join(dir, 'photos'), '--json', '--limit', '2']);
    expect(out.code).to.equal(1);
    const r = JSON.parse(out.stdout) as { total: number; errors: Record<string, number>; pass: boolean };
    expect(r.total).to.equal(4);
    expect(r.errors).to.deep.equal({ 'connection refused': 4 });
  });
});

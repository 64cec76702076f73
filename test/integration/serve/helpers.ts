import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { saveArtifact } from '../../../src/ml/artifact.js';
import { createLogger } from '../../../src/shared/logger.js';
import { createFileStorage, type Storage } from '../../../src/shared/storage/index.js';
import { parseServeConfig, type ServeFlags } from '../../../src/serve/config.js';
import { startServe, type ServeHandle } from '../../../src/serve/server.js';

/** The shared photo folder beside the repository (never copied into it). */
export const PHOTOS_DIR = fileURLToPath(new URL('../../../../shared/datasets/cats-dogs/', import.meta.url));
export const ODDITIES_DIR = fileURLToPath(new URL('../../../../shared/datasets/cats-dogs-oddities/', import.meta.url));

/** Skips the calling test (saying why) when the shared photos are absent. */
export function requirePhotos(ctx: Mocha.Context): void {
  if (!existsSync(path.join(PHOTOS_DIR, 'cat'))) {
    console.log(`    skipped: real photos not found at ${PHOTOS_DIR}`);
    ctx.skip();
  }
}

/** The first `n` photos of each class, as file bytes. */
export async function loadPhotos(n: number): Promise<{ name: string; bytes: Buffer }[]> {
  const out: { name: string; bytes: Buffer }[] = [];
  for (const cls of ['cat', 'dog']) {
    const names = (await readdir(path.join(PHOTOS_DIR, cls))).filter((f) => f.endsWith('.jpg')).sort().slice(0, n);
    for (const name of names) out.push({ name: `${cls}/${name}`, bytes: await readFile(path.join(PHOTOS_DIR, cls, name)) });
  }
  return out;
}

/**
 * A tiny but real classifier (conv → pool → dense softmax) saved as a proper artifact with
 * metadata and sha256, optionally with a metrics.json. Returns its file:// URI.
 */
export async function createTinyArtifact(options: { size?: number; classes?: string[]; evaluation?: object } = {}): Promise<{ uri: string; dir: string; cleanup: () => Promise<void> }> {
  const size = options.size ?? 32;
  const classes = options.classes ?? ['cat', 'dog'];
  const dir = await mkdtemp(path.join(tmpdir(), 'kennel-serve-'));
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [size, size, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: classes.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  const uri = `${pathToFileURL(dir).href}/pets/v7`;
  const storage = createFileStorage();
  await saveArtifact(
    uri,
    model,
    {
      classes,
      inputShape: [size, size, 3],
      preprocessing: { resize: 'cover', size, scale: 1 / 255 },
      dataset: { uri: 'file:///data/pets', digest: 'b'.repeat(64) },
      hyperparameters: { epochs: 1 },
      architecture: 'tiny-test',
      backend: tf.getBackend() ?? 'cpu',
      codeVersion: '0.0.0-test',
      createdAt: new Date(0).toISOString(),
    },
    storage,
  );
  model.dispose();
  if (options.evaluation) await storage.write(`${uri}/metrics.json`, JSON.stringify(options.evaluation));
  return { uri, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Collects JSON log lines written by pino. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  requests(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.msg === 'request');
  }
}

export interface TestServer {
  readonly handle: ServeHandle;
  readonly url: string;
  readonly logs: LogCapture;
  stop(): Promise<void>;
}

/** Starts the real server (real artifact load, real HTTP on loopback) and waits until ready. */
export async function startTestServer(uri: string, flags: ServeFlags = {}, options: { logStorage?: Storage } = {}): Promise<TestServer> {
  const logs = new LogCapture();
  const logger = createLogger({ name: 'serve-test', destination: logs, level: 'info' });
  const config = parseServeConfig({ host: '127.0.0.1', port: 0, workers: 1, model: uri, ...flags }, {});
  const handle = await startServe(config, { logger, ...options });
  if (!(await handle.loaded)) {
    const state = handle.deps.readiness.state;
    await handle.shutdown();
    throw new Error(`test model failed to load: ${JSON.stringify(state)}`);
  }
  return { handle, url: handle.url, logs, stop: () => handle.shutdown() };
}

/** A multipart/form-data body with the given file parts. */
export function multipart(parts: { field: string; filename: string; type: string; bytes: Buffer }[], boundary = 'kennel-test-boundary'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.field}"; filename="${p.filename}"\r\nContent-Type: ${p.type}\r\n\r\n`));
    chunks.push(p.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A PNG whose header claims width×height pixels, with a tiny body: a decompression bomb stand-in. */
export function pngHeaderClaiming(width: number, height: number): Buffer {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c;
}

const repo = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServeChild {
  proc: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

/** Runs `kennel serve` from source as a child process and waits for it to listen. */
export async function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: Record<string, unknown>[] = [];
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          lines.push(obj);
          if (typeof obj.url === 'string' && obj.msg === 'listening; loading model') resolve(obj.url);
        } catch {
          // not a log line
        }
      }
    });
    proc.stderr!.resume();
    void exit.then((code) => reject(new Error(`kennel serve exited (${code}) before listening`)));
  });
  return { proc, url, lines, exit };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}


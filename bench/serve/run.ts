/**
 * `npm run bench:serve`: load-tests a real `kennel serve` child process with real photos from
 * ../shared/datasets/cats-dogs sent as multipart uploads, using autocannon on the same machine.
 * For each model size (untrained but real SimpleCNN models from createModel, saved as proper
 * artifacts) and each concurrency: req/s, p50/p99 latency, non-2xx and errors, and the server's
 * RSS before and after. `--steady 60` adds a 60-second run at concurrency 8 sampling RSS and the
 * TF.js tensor count. Flags: --sizes 128,224 --concurrency 1,8,32 --duration 10 --workers 2
 * --max-batch-size 8 --max-wait-ms 2 --steady 0 --photos 200 --arch simple-cnn
 * [--prediction-log <uri> --image-sample-rate 0]. `--compare-logging` runs two servers per size,
 * one without and one with a prediction log (the --prediction-log URI, or a temporary file://
 * one), and loads them in turn, `--rounds` times per concurrency, so both see the same machine.
 * `--overload 2,4` measures load shedding instead: capacity at concurrency 8, then an open-loop
 * flood at 2× and 4× that rate (`--max-in-flight`, default 64, is passed to the server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ownShutdown } from '../../local-cluster/shutdown.js';
import autocannon, { type Result as CannonResult } from 'autocannon';
import * as tf from '@tensorflow/tfjs';
import { saveArtifact } from '../../src/ml/artifact.js';
import { isArchitecture, isPretrainedArchitecture, type Architecture } from '../../src/ml/architectures.js';
import { createModel } from '../../src/ml/model-factory.js';
import { createPretrainedModel } from '../../src/ml/transfer/create-pretrained.js';
import { createFileStorage } from '../../src/shared/storage/index.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const photosDir = fileURLToPath(new URL('../../../shared/datasets/cats-dogs/', import.meta.url));

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '128,224' },
    concurrency: { type: 'string', default: '1,8,32' },
    duration: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    'max-batch-size': { type: 'string', default: '8' },
    'max-wait-ms': { type: 'string', default: '2' },
    steady: { type: 'string', default: '0' },
    photos: { type: 'string', default: '200' },
    arch: { type: 'string', default: 'simple-cnn' },
    dist: { type: 'boolean', default: false },
    'prediction-log': { type: 'string' },
    'image-sample-rate': { type: 'string', default: '0' },
    'compare-logging': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    overload: { type: 'string' },
    'max-in-flight': { type: 'string', default: '64' },
  },
});

/** `--prediction-log <uri>` (and `--image-sample-rate`) pass through to the server, to measure what logging costs. */
const loggingArgs = (log = args['prediction-log']): string[] => (log ? ['--prediction-log', log, '--image-sample-rate', args['image-sample-rate']] : []);

const list = (s: string): number[] => s.split(',').map((x) => Number(x.trim())).filter((n) => Number.isFinite(n) && n > 0);

// Interrupted by any signal (to its pid alone or its group), the bench stops the server it started.
const shutdown = ownShutdown();

async function main(): Promise<void> {
  const arch = args.arch;
  if (!isArchitecture(arch)) throw new Error(`unknown architecture ${arch}`);
  const bodies = await multipartBodies(Number(args.photos));
  console.log(`photos: ${bodies.length} real JPEGs from ${photosDir}; load average at start: ${load()}`);
  if (args['compare-logging']) return compareLogging(arch, bodies);
  if (args.overload) return overloadSteps(arch, bodies, list(args.overload));
  console.log(args['prediction-log'] ? `prediction log: ${args['prediction-log']} (image sample rate ${args['image-sample-rate']})` : 'prediction log: off');
  const rows: Row[] = [];
  for (const size of list(args.sizes)) {
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-bench-serve-'));
    try {
      const uri = await saveModel(dir, arch, size);
      const server = await startServer(uri);
      try {
        // Warm-up: let JIT, caches and the worker pool settle before measuring.
        await autocannon({ url: server.url, connections: 8, duration: 3, requests: [request(bodies)] });
        for (const c of list(args.concurrency)) {
          const rssBefore = rssMiB(server.child);
          const cpuBefore = cpuSeconds(server.child);
          const threadsBefore = threadCpuSeconds(server.child);
          const r = await autocannon({ url: server.url, connections: c, duration: Number(args.duration), timeout: 30, requests: [request(bodies)] });
          const row: Row = {
            size,
            c,
            rps: Math.round((r.requests.total / r.duration) * 10) / 10,
            p50: r.latency.p50,
            p99: r.latency.p99,
            non2xx: r.non2xx,
            errors: r.errors + r.timeouts,
            rssBefore,
            rssAfter: rssMiB(server.child),
            cpuMsPerReq: Math.round(((cpuSeconds(server.child) - cpuBefore) * 1000) / Math.max(1, r.requests.total)),
            load: load(),
          };
          rows.push(row);
          console.log(format(row));
          if (process.env.KENNEL_BENCH_THREADS) console.log(`      CPU ms/req by thread: ${threadBreakdown(threadsBefore, threadCpuSeconds(server.child), r.requests.total)}`);
        }
        if (Number(args.steady) > 0) await steady(server, bodies, Number(args.steady), size);
      } finally {
        await stopServer(server);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log('\nsize  conc   req/s   p50 ms   p99 ms  non2xx errors  RSS MiB bef→after  CPU ms/req  load(1m,5m,15m)');
  for (const row of rows) console.log(format(row));
}

/**
 * What a prediction log costs: per size, a server without and one with the log, both warm, loaded
 * in turn (off, on, then on, off, ...) `--rounds` times at each concurrency, so drift in what else
 * runs on the machine falls on both alike. Prints every step, then per size and concurrency the
 * mean req/s and server CPU ms per request of each, the throughput cost, and what the log wrote.
 */
async function compareLogging(arch: Architecture, bodies: Buffer[]): Promise<void> {
  const rounds = Math.max(1, Number(args.rounds) || 1);
  const summary: string[] = [];
  for (const size of list(args.sizes)) {
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-bench-serve-'));
    try {
      const uri = await saveModel(dir, arch, size);
      const logUri = args['prediction-log'] ?? `${pathToFileURL(dir).href}/prediction-log`;
      console.log(`size ${size}: prediction log ${logUri} (image sample rate ${args['image-sample-rate']}), ${rounds} rounds per concurrency`);
      const servers = { off: await startServer(uri, []), on: await startServer(uri, loggingArgs(logUri)) };
      try {
        for (const server of Object.values(servers)) await autocannon({ url: server.url, connections: 8, duration: 3, requests: [request(bodies)] });
        for (const c of list(args.concurrency)) {
          const runs: Record<'off' | 'on', Row[]> = { off: [], on: [] };
          for (let round = 0; round < rounds; round++) {
            for (const which of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
              const row = await step(servers[which], bodies, size, c);
              runs[which].push(row);
              console.log(`${format(row)}   log ${which}`);
            }
          }
          const mean = (rows: Row[], f: (r: Row) => number): number => rows.reduce((a, r) => a + f(r), 0) / rows.length;
          const [offRps, onRps] = [mean(runs.off, (r) => r.rps), mean(runs.on, (r) => r.rps)];
          const [offCpu, onCpu] = [mean(runs.off, (r) => r.cpuMsPerReq), mean(runs.on, (r) => r.cpuMsPerReq)];
          const failed = [...runs.off, ...runs.on].reduce((a, r) => a + r.non2xx + r.errors, 0);
          summary.push(
            `${String(size).padStart(4)} ${String(c).padStart(5)} ${offRps.toFixed(1).padStart(9)} ${onRps.toFixed(1).padStart(8)} ${`${(((offRps - onRps) / offRps) * 100).toFixed(1)} %`.padStart(8)} ${offCpu.toFixed(1).padStart(10)} ${onCpu.toFixed(1).padStart(9)} ${String(failed).padStart(7)}   ${load()}`,
          );
        }
        const metrics = await fetch(`${servers.on.url}/metrics`).then((r) => r.text());
        const sum = (name: string, stream: string): number =>
          metrics
            .split('\n')
            .filter((l) => l.startsWith(`${name}{`) && l.includes(`stream="${stream}"`))
            .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
        summary.push(`      log: ${sum('kennel_serve_prediction_log_appended_total', 'predictions')} prediction records appended, ${sum('kennel_serve_prediction_log_written_total', 'predictions')} written, ${sum('kennel_serve_prediction_log_dropped_total', 'predictions')} dropped (before shutdown's flush)`);
      } finally {
        await stopServer(servers.off);
        await stopServer(servers.on);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log('\nsize  conc  req/s off  req/s on     cost  CPU ms off  CPU ms on  failed   load(1m,5m,15m)');
  for (const line of summary) console.log(line);
}

/** One autocannon step at concurrency c against a warm server. */
async function step(server: Server, bodies: Buffer[], size: number, c: number): Promise<Row> {
  const rssBefore = rssMiB(server.child);
  const cpuBefore = cpuSeconds(server.child);
  const r = await autocannon({ url: server.url, connections: c, duration: Number(args.duration), timeout: 30, requests: [request(bodies)] });
  return {
    size,
    c,
    rps: Math.round((r.requests.total / r.duration) * 10) / 10,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    rssBefore,
    rssAfter: rssMiB(server.child),
    /* one decimal: the comparison looks for differences of a few per cent */
    cpuMsPerReq: Math.round(((cpuSeconds(server.child) - cpuBefore) * 10_000) / Math.max(1, r.requests.total)) / 10,
    load: load(),
  };
}

/**
 * Load shedding: per size, capacity = req/s at concurrency 8 (closed loop), then an open-loop
 * flood at each factor × capacity (autocannon's overallRate over 512 connections, so requests
 * keep arriving whatever the server does) for --duration seconds. Reports, separately, the
 * latency of the answered (2xx) and the shed (503) requests, the shed rate, other failures, and
 * the server's RSS before and at its peak.
 */
async function overloadSteps(arch: Architecture, bodies: Buffer[], factors: number[]): Promise<void> {
  const lines: string[] = [];
  for (const size of list(args.sizes)) {
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-bench-serve-'));
    try {
      const server = await startServer(await saveModel(dir, arch, size));
      try {
        await autocannon({ url: server.url, connections: 8, duration: 3, requests: [request(bodies)] });
        const base = await step(server, bodies, size, 8);
        const capacity = base.rps;
        const head = `${String(size).padStart(4)}  capacity ${capacity.toFixed(1)} req/s at c=8 (p99 ${base.p99} ms)   load ${base.load}`;
        console.log(head);
        lines.push(head);
        for (const factor of factors) {
          const line = `${String(size).padStart(4)} ${`${factor}×`.padStart(4)} ${await flood(server, bodies, capacity * factor)}`;
          console.log(line);
          lines.push(line);
        }
      } finally {
        await stopServer(server);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nsize  load  offered/s  ok/s   ok p50/p99 ms  shed %  shed p50/p99 ms  other  RSS MiB bef→peak  load(1m,5m,15m)   (--max-in-flight ${args['max-in-flight']})`);
  for (const line of lines) console.log(line);
}

async function flood(server: Server, bodies: Buffer[], rate: number): Promise<string> {
  const ok: number[] = [];
  const shed: number[] = [];
  let other = 0;
  const rssBefore = rssMiB(server.child);
  let rssPeak = rssBefore;
  const timer = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(server.child))), 250);
  const duration = Number(args.duration);
  const result = await new Promise<CannonResult>((resolve, reject) => {
    const instance = autocannon({ url: server.url, connections: 512, overallRate: Math.max(1, Math.round(rate)), duration, timeout: 30, requests: [request(bodies)] }, (err, r) => (err ? reject(err) : resolve(r)));
    instance.on('response', (_client, status, _bytes, ms) => (status >= 200 && status < 300 ? ok : status === 503 ? shed : { push: () => other++ }).push(ms));
  });
  clearInterval(timer);
  const pct = (xs: number[], p: number) => (xs.length ? Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!) : NaN);
  const total = ok.length + shed.length + other;
  other += result.errors + result.timeouts;
  return [
    (total / duration).toFixed(1).padStart(9),
    (ok.length / duration).toFixed(1).padStart(6),
    `${pct(ok, 50)}/${pct(ok, 99)}`.padStart(14),
    ((shed.length / Math.max(1, total)) * 100).toFixed(1).padStart(7),
    `${pct(shed, 50)}/${pct(shed, 99)}`.padStart(16),
    String(other).padStart(6),
    `${rssBefore.toFixed(0).padStart(6)} → ${rssPeak.toFixed(0).padEnd(6)}`,
    `   ${load()}`,
  ].join(' ');
}

interface Row {
  size: number;
  c: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  rssBefore: number;
  rssAfter: number;
  /** Server CPU time (all threads) per answered request: comparable even on a busy machine. */
  cpuMsPerReq: number;
  load: string;
}

function format(r: Row): string {
  return `${String(r.size).padStart(4)} ${String(r.c).padStart(5)} ${r.rps.toFixed(1).padStart(7)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(8)} ${String(r.non2xx).padStart(7)} ${String(r.errors).padStart(6)}  ${r.rssBefore.toFixed(0).padStart(6)} → ${r.rssAfter.toFixed(0).padEnd(6)} ${String(r.cpuMsPerReq).padStart(8)}   ${r.load}`;
}

function load(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

async function multipartBodies(n: number): Promise<Buffer[]> {
  const files: string[] = [];
  for (const cls of ['cat', 'dog']) {
    const names = (await readdir(path.join(photosDir, cls))).filter((f) => f.endsWith('.jpg')).sort().slice(0, Math.ceil(n / 2));
    files.push(...names.map((f) => path.join(photosDir, cls, f)));
  }
  return Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(file);
      return Buffer.concat([
        Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
        bytes,
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]);
    }),
  );
}

const BOUNDARY = 'kennel-bench-boundary';

/** One autocannon request template that cycles through the photo bodies. */
function request(bodies: Buffer[]) {
  let i = 0;
  return {
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    setupRequest: (req: { headers?: Record<string, string> }) => ({ ...req, method: 'POST', path: '/predict', body: bodies[i++ % bodies.length] }),
  };
}

async function saveModel(dir: string, arch: Architecture, size: number): Promise<string> {
  await tf.setBackend('cpu');
  const model = isPretrainedArchitecture(arch) ? createPretrainedModel({ architecture: arch, imageSize: size, numClasses: 2 }) : createModel({ architecture: arch, imageSize: size, numClasses: 2 });
  const uri = `${pathToFileURL(dir).href}/bench/${arch}-${size}`;
  await saveArtifact(
    uri,
    model,
    {
      classes: ['cat', 'dog'],
      inputShape: [size, size, 3],
      preprocessing: { resize: 'cover', size, scale: 1 / 255 },
      dataset: { uri: 'file:///bench/untrained', digest: '0'.repeat(64) },
      hyperparameters: { untrained: true },
      architecture: arch,
      backend: 'cpu',
      codeVersion: 'bench',
      createdAt: new Date().toISOString(),
    },
    createFileStorage(),
  );
  model.dispose();
  return uri;
}

interface Server {
  child: ChildProcess;
  url: string;
}

async function startServer(uri: string, logging: string[] = loggingArgs()): Promise<Server> {
  const cli = args.dist ? [path.join(repo, 'dist/cli.js')] : ['--import', 'tsx', path.join(repo, 'src/cli.ts')];
  const child = spawn(
    process.execPath,
    // KENNEL_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the server.
    [...(process.env.KENNEL_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...cli, 'serve', '--model', uri, '--host', '127.0.0.1', '--port', '0', '--workers', args.workers, '--max-batch-size', args['max-batch-size'], '--max-wait-ms', args['max-wait-ms'], '--max-in-flight', args['max-in-flight'], ...logging],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KENNEL_LOG_LEVEL: process.env.KENNEL_LOG_LEVEL ?? 'info' } },
  );
  shutdown.adopt('kennel serve', child);
  // Port 0 lets the kernel choose; read the chosen port from /proc rather than from the logs.
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start listening within 60 s')), 60_000);
    const poll = setInterval(() => {
      const port = listeningPort(child.pid);
      if (port) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    }, 200);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  child.stdout?.resume();
  const deadline = Date.now() + 180_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('server not ready within 180 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, url };
}

/** The TCP port a process listens on, read from /proc (Linux). */
function listeningPort(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSyncSafe(`/proc/${pid}/fd`)) {
      const link = readlinkSafe(`/proc/${pid}/fd/${fd}`);
      const m = link?.match(/^socket:\[(\d+)\]$/);
      if (m?.[1]) inodes.add(m[1]);
    }
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9] && inodes.has(cols[9])) return parseInt(cols[1]!.split(':')[1]!, 16);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function readdirSyncSafe(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}
function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** utime + stime of the server process (all its threads), seconds. */
function cpuSeconds(child: ChildProcess): number {
  try {
    return statCpuSeconds(`/proc/${child.pid}/stat`);
  } catch {
    return NaN;
  }
}

/** utime + stime from a /proc stat file (process or thread), seconds. */
function statCpuSeconds(file: string): number {
  const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of each of the server's threads, by thread id, with the thread's name. */
function threadCpuSeconds(child: ChildProcess): Map<string, { name: string; seconds: number }> {
  const out = new Map<string, { name: string; seconds: number }>();
  for (const tid of readdirSyncSafe(`/proc/${child.pid}/task`)) {
    try {
      const seconds = statCpuSeconds(`/proc/${child.pid}/task/${tid}/stat`);
      const name = tid === String(child.pid) ? 'main' : readFileSync(`/proc/${child.pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name, seconds });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** "main 2.1, node 9.8, …": CPU ms per request spent by each kind of thread during a step. */
function threadBreakdown(before: Map<string, { seconds: number }>, after: Map<string, { name: string; seconds: number }>, requests: number): string {
  const byName = new Map<string, number>();
  for (const [tid, t] of after) byName.set(t.name, (byName.get(t.name) ?? 0) + t.seconds - (before.get(tid)?.seconds ?? 0));
  return [...byName]
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${((s * 1000) / Math.max(1, requests)).toFixed(1)}`)
    .join(', ');
}

function rssMiB(child: ChildProcess): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

async function steady(server: Server, bodies: Buffer[], seconds: number, size: number): Promise<void> {
  console.log(`\nsteady memory: ${seconds} s at concurrency 8, ${size}×${size}`);
  const samples: { t: number; rss: number; tensors: number }[] = [];
  const started = Date.now();
  const sample = async () => {
    const text = await fetch(`${server.url}/metrics`).then((r) => r.text(), () => '');
    const tensors = Number(text.match(/^kennel_serve_tfjs_tensors\{[^}]*\} (\d+)/m)?.[1] ?? NaN);
    samples.push({ t: Math.round((Date.now() - started) / 1000), rss: Math.round(rssMiB(server.child)), tensors });
  };
  await sample();
  const timer = setInterval(() => void sample(), 5000);
  const r = await autocannon({ url: server.url, connections: 8, duration: seconds, timeout: 30, requests: [request(bodies)] });
  clearInterval(timer);
  await sample();
  for (const s of samples) console.log(`  t=${String(s.t).padStart(3)} s  RSS ${s.rss} MiB  tensors ${s.tensors}`);
  const rss = samples.map((s) => s.rss);
  console.log(`  requests ${r.requests.total} (${(r.requests.total / r.duration).toFixed(1)} req/s), non-2xx ${r.non2xx}, errors ${r.errors + r.timeouts}; RSS min ${Math.min(...rss)} max ${Math.max(...rss)} MiB; load ${load()}`);
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) console.log(`server exited with code ${code} after SIGTERM (expected 0)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * `npm run bench:train [-- <extra kennel train flags>]`: runs `kennel train` with its defaults
 * on the 3,000 shared cats-vs-dogs photos (file://) in a child process and prints wall time,
 * training images/s, peak RSS, test accuracy and backend. Extra flags are passed through
 * (e.g. `-- --architecture simple-cnn --image-size 128 --epochs 15`).
 *
 * Peak RSS comes from `/usr/bin/time -v` when present (the whole process, worker threads
 * included); without it, peak RSS is reported as unavailable. The machine's
 * load average is printed before and after, since other work on the same cores skews the figures.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ownShutdown } from '../../local-cluster/shutdown.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const data = process.env.KENNEL_BENCH_DATA ?? path.resolve(repo, '../shared/datasets/cats-dogs');
const extra = process.argv.slice(2);

interface Outcome {
  outcome: string;
  reason?: string;
  message?: string;
  backend?: string;
  skippedFiles?: number;
  metrics?: { accuracy: number; f1: number; rocAuc?: number; testImages: number };
}

interface MetricsFile {
  training: { epochsRun: number; bestEpoch: number; stoppedEarly: boolean; seconds: number; imagesPerSecond: number; stageSeconds?: { features: number; head: number; fineTune: number } };
  split: { train: number; validation: number; test: number };
  meanConfidence: number;
  calibration: { temperature?: number; expectedCalibrationError: number };
}

// Interrupted by any signal (to its pid alone or its group), the bench stops the training it started.
const shutdown = ownShutdown();

async function main(): Promise<void> {
  if (!existsSync(data)) {
    console.error(`bench:train: dataset ${data} is absent (set KENNEL_BENCH_DATA)`);
    process.exit(2);
  }
  const work = await mkdtemp(path.join(tmpdir(), 'kennel-bench-train-'));
  const out = path.join(work, 'model');
  const term = path.join(work, 'termination-log');
  const timeFile = path.join(work, 'time.txt');
  const useTime = existsSync('/usr/bin/time');
  const cli = [process.execPath, '--import', 'tsx', path.join(repo, 'src/cli.ts'), 'train', '--data', pathToFileURL(data).href, '--out', pathToFileURL(out).href, ...extra];
  const [cmd, ...args] = useTime ? ['/usr/bin/time', '-v', '-o', timeFile, ...cli] : cli;
  const load0 = loadavg();
  console.log(`kennel train on ${data} (${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load ${load0.map((l) => l.toFixed(2)).join(' ')})`);
  console.log(`$ ${cli.slice(3).join(' ')}`);
  const started = performance.now();
  const code = await new Promise<number>((resolve) => {
    // A group of its own: /usr/bin/time runs the training as its child.
    const child = spawn(cmd as string, args, { cwd: repo, env: { ...process.env, KENNEL_TERMINATION_LOG: term }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    shutdown.adopt('kennel train', child, { group: true });
    let buf = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          if (j.event === 'epoch') {
            console.log(`  epoch ${j.epoch}/${j.epochs}  loss ${Number(j.loss).toFixed(4)}  acc ${Number(j.accuracy).toFixed(3)}  val_loss ${Number(j.valLoss).toFixed(4)}  val_acc ${Number(j.valAccuracy).toFixed(3)}  ${Number(j.imagesPerSecond).toFixed(1)} img/s`);
          } else if (j.msg === 'stage') {
            console.log(`  [${((performance.now() - started) / 1000).toFixed(1)} s] ${String(j.stage)}`);
          } else if (j.msg === 'tensorflow backend selected' || j.msg === 'dataset loaded' || j.msg === 'dataset split' || j.level === 'error' || j.level === 'warn') {
            const { level: _l, time: _t, component: _c, ...rest } = j;
            console.log(`  ${JSON.stringify(rest).slice(0, 300)}`);
          }
        } catch {
          // not a JSON line
        }
      }
    });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const wall = (performance.now() - started) / 1000;
  const load1 = loadavg();
  const outcome = JSON.parse(await readFile(term, 'utf8').catch(() => '{"outcome":"unknown"}')) as Outcome;
  let rss = 'n/a (no /usr/bin/time)';
  if (useTime) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(await readFile(timeFile, 'utf8').catch(() => ''));
    if (m) rss = `${(Number(m[1]) / 2 ** 20).toFixed(2)} GiB`;
  }
  console.log('');
  if (code !== 0 || outcome.outcome !== 'Succeeded') {
    console.log(`FAILED (exit ${code}): ${outcome.reason ?? ''} ${outcome.message ?? ''}`);
    await rm(work, { recursive: true, force: true });
    process.exit(1);
  }
  const metrics = JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8')) as MetricsFile;
  const t = metrics.training;
  const rows: [string, string][] = [
    ['wall time (whole command)', `${wall.toFixed(1)} s`],
    ['training time', `${t.seconds.toFixed(1)} s (${t.epochsRun} epochs, best ${t.bestEpoch}${t.stoppedEarly ? ', stopped early' : ''})`],
    ['training images/s', `${t.imagesPerSecond.toFixed(1)} (validation included in the time)`],
    ['images train/val/test', `${metrics.split.train}/${metrics.split.validation}/${metrics.split.test} (${outcome.skippedFiles ?? 0} skipped)`],
    ['peak RSS', rss],
    ['test accuracy', `${outcome.metrics?.accuracy.toFixed(4)} (F1 ${outcome.metrics?.f1.toFixed(4)}, ROC-AUC ${outcome.metrics?.rocAuc?.toFixed(4) ?? '—'}, ${outcome.metrics?.testImages} images)`],
    ...(t.stageSeconds ? [['pretrained stages', `features ${t.stageSeconds.features.toFixed(1)} s, head ${t.stageSeconds.head.toFixed(1)} s, fine-tuning ${t.stageSeconds.fineTune.toFixed(1)} s`] as [string, string]] : []),
    ['calibration (test split)', `ECE ${metrics.calibration.expectedCalibrationError.toFixed(4)}${metrics.calibration.temperature !== undefined ? `, temperature ${metrics.calibration.temperature.toFixed(3)}` : ''}, mean confidence ${metrics.meanConfidence.toFixed(3)}`],
    ['not a pet (generated images)', await outOfDistribution(pathToFileURL(out).href)],
    ['backend', outcome.backend ?? '?'],
    ['load average before → after', `${load0[0]?.toFixed(2)} → ${load1[0]?.toFixed(2)}`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(28)} ${v}`);
  await rm(work, { recursive: true, force: true });
  process.exit(0);
}

/**
 * How the trained model answers images that are neither class: 60 generated pictures (noise,
 * stripes, flat colours, gradients). Prints their mean top-class confidence and the share a
 * server with --min-confidence 0.8 / 0.9 would answer `label: null`.
 */
async function outOfDistribution(modelUri: string): Promise<string> {
  const [{ loadArtifact }, { createFileStorage }, { compileInference }, { imagesToTensor }, { selectBackend }, { seededRandom }, tf] = await Promise.all([
    import('../../src/ml/artifact.js'),
    import('../../src/shared/storage/index.js'),
    import('../../src/ml/inference-forward.js'),
    import('../../src/ml/preprocess.js'),
    import('../../src/ml/backend/select.js'),
    import('../../src/shared/random.js'),
    import('@tensorflow/tfjs'),
  ]);
  await selectBackend({ preference: 'wasm' });
  const { model, metadata } = await loadArtifact(modelUri, createFileStorage());
  const size = metadata.preprocessing.size;
  const n = 60;
  const rng = seededRandom(7);
  const pixels = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    const c = [rng(), rng(), rng()].map((v) => v * 255);
    const period = 4 + Math.floor(rng() * 12);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let k = 0; k < 3; k++) {
          const base = kind === 0 ? rng() * 255 : kind === 1 ? (Math.floor(y / period) % 2 ? (c[k] as number) : 255 - (c[k] as number)) : kind === 2 ? (c[k] as number) : ((x + y) / (2 * size)) * (c[k] as number);
          pixels[((i * size + y) * size + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(base)));
        }
      }
    }
  }
  const run = compileInference(model);
  const probs = tf.tidy(() => run(imagesToTensor(pixels, n, size)).dataSync() as Float32Array);
  model.dispose();
  const k = metadata.classes.length;
  const top = Array.from({ length: n }, (_, i) => Math.max(...probs.subarray(i * k, (i + 1) * k)));
  const mean = top.reduce((a, b) => a + b, 0) / n;
  const below = (t: number): string => `${((top.filter((p) => p < t).length / n) * 100).toFixed(0)} %`;
  return `mean confidence ${mean.toFixed(3)}; unsure at --min-confidence 0.8: ${below(0.8)}, 0.9: ${below(0.9)}`;
}

await main();

/**
 * `npm run bench:train:speed` — SimpleCNN training throughput (images/s) on generated images at
 * 64, 128 and 224 px, batch 32, through the same data-parallel `fit` that `kennel train` uses.
 *
 * The machine is shared, so besides wall-clock images/s the benchmark reports CPU time per image
 * (all threads of this process) and the throughput that CPU cost projects to on an otherwise idle
 * machine with one core per replica. The first batch (warm-up) is not counted.
 *
 *   npm run bench:train:speed -- [--sizes 64,128,224] [--batch 32] [--steps 6] [--workers 2]
 *                                [--architecture simple-cnn] [--backend wasm]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fit } from '../../src/ml/fit/fit.js';
import { isScratchArchitecture } from '../../src/ml/model-factory.js';
import type { BackendPreference } from '../../src/ml/backend/select.js';

const TARGET_128 = 33;
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,128,224' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '6' },
    workers: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
    architecture: { type: 'string', default: 'simple-cnn' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const architecture = values.architecture;
if (!isScratchArchitecture(architecture)) throw new Error(`not a from-scratch architecture: ${architecture}`);
const batch = Number(values.batch);
const steps = Math.max(2, Number(values.steps));
const workers = Number(values.workers);

function generated(count: number, size: number, seed: number): { pixels: Uint8Array; labels: Int32Array; count: number; imageSize: number } {
  const pixels = new Uint8Array(count * size * size * 3);
  let s = seed >>> 0;
  for (let i = 0; i < pixels.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    pixels[i] = s >>> 24;
  }
  return { pixels, labels: Int32Array.from({ length: count }, (_, i) => i % 2), count, imageSize: size };
}

console.log(`train-speed: ${architecture}, batch ${batch}, ${steps} steps per size (first not counted), ${workers} replica(s), ${os.availableParallelism()} cores`);
console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const rows: string[] = [];
let backend = 'unknown';
for (const size of values.sizes.split(',').map(Number)) {
  const marks: { t: number; cpu: number; images: number }[] = [];
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const result = await fit({
    spec: { architecture, imageSize: size, numClasses: 2, seed: 1 },
    train: generated(batch * steps, size, size),
    validation: generated(2, size, 7),
    epochs: 1,
    batchSize: batch,
    learningRate: 1e-3,
    augmentation: { horizontalFlip: true },
    earlyStopping: { patience: 1 },
    seed: 1,
    workers,
    backend: values.backend as BackendPreference,
    onBatch: (info) => marks.push({ t: performance.now(), cpu: cpuNow(), images: info.batch * batch }),
  });
  backend = result.backend;
  result.model.dispose();
  const first = marks[0] as { t: number; cpu: number; images: number };
  const last = marks[marks.length - 1] as { t: number; cpu: number; images: number };
  const images = last.images - first.images;
  const wall = (last.t - first.t) / 1000;
  const cpu = last.cpu - first.cpu;
  const ips = images / wall;
  const projected = (images / cpu) * Math.max(1, Math.min(workers, os.availableParallelism()));
  const ratio = size === 128 ? `  ratio to target ${TARGET_128} img/s: wall ${(ips / TARGET_128).toFixed(2)}, projected ${(projected / TARGET_128).toFixed(2)}` : '';
  const row = `${String(size).padStart(4)} px: ${ips.toFixed(1).padStart(6)} img/s wall, ${((cpu / images) * 1000).toFixed(1)} ms CPU/img, projected idle ${projected.toFixed(1)} img/s${ratio}`;
  console.log(row);
  rows.push(row);
}
console.log(`backend: ${backend}`);
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

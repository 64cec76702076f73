/**
 * Measures a training recipe on the real photos (../shared/datasets/cats-dogs): loads them the way
 * `kennel train` does (sharp, cover resize, content-hash split 0.8/0.1/0.1), trains with `fit`,
 * and prints test accuracy, wall time, CPU time, peak memory and the machine's load.
 *
 *   npx tsx bench/train-speed/recipe.ts [--size 96] [--architecture compact-cnn] [--epochs 24]
 *       [--lr 0.002] [--batch 32] [--patience 6] [--crop true] [--brightness 0.1] [--workers 2]
 * Defaults are compact-cnn's defaultHyperparameters. Used to choose them (see README.md).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { fit } from '../../src/ml/fit/fit.js';
import { defaultHyperparameters } from '../../src/ml/architectures.js';
import { isScratchArchitecture } from '../../src/ml/model-factory.js';
import { imagesToTensor } from '../../src/ml/preprocess.js';
import { createFileStorage } from '../../src/shared/storage/file-storage.js';
import { loadDataset } from '../../src/worker/dataset/load-dataset.js';
import { splitDataset } from '../../src/worker/dataset/split-dataset.js';
import { DEFAULT_SPLIT } from '../../src/worker/dataset/split.js';

const d = { architecture: 'compact-cnn' as const, ...defaultHyperparameters('compact-cnn') };
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: String(d.imageSize) },
    architecture: { type: 'string', default: d.architecture },
    epochs: { type: 'string', default: String(d.epochs) },
    lr: { type: 'string', default: String(d.learningRate) },
    batch: { type: 'string', default: String(d.batchSize) },
    patience: { type: 'string', default: String(d.earlyStopping.patience) },
    crop: { type: 'string', default: String(d.augmentation.randomCrop) },
    brightness: { type: 'string', default: String(d.augmentation.brightness) },
    workers: { type: 'string', default: '2' },
  },
});
const dataDir = fileURLToPath(new URL('../../../shared/datasets/cats-dogs/', import.meta.url));
if (!existsSync(dataDir)) {
  console.log(`recipe: skipped, ${dataDir} is absent`);
  process.exit(0);
}
const architecture = values.architecture;
if (!isScratchArchitecture(architecture)) throw new Error(`not a from-scratch architecture: ${architecture}`);
const size = Number(values.size);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
console.log(`recipe: ${JSON.stringify(values)}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const dataset = await loadDataset({ uri: dataDir, storage: createFileStorage(), imageSize: size, resize: 'cover' });
const splits = splitDataset(dataset, DEFAULT_SPLIT, 0);
const loadSeconds = (performance.now() - t0) / 1000;
console.log(`loaded ${dataset.images.length} images (${splits.train.count}/${splits.validation.count}/${splits.test.count}) in ${loadSeconds.toFixed(1)} s`);
const t1 = performance.now();
const result = await fit({
  spec: { architecture, imageSize: size, numClasses: dataset.classes.length, seed: 1 },
  train: splits.train,
  validation: splits.validation,
  epochs: Number(values.epochs),
  batchSize: Number(values.batch),
  learningRate: Number(values.lr),
  augmentation: { horizontalFlip: true, randomCrop: values.crop === 'true', brightness: Number(values.brightness) },
  earlyStopping: { patience: Number(values.patience) },
  seed: 1,
  workers: Number(values.workers),
  onEpoch: (l) => {
    const c = process.cpuUsage(cpu0);
    console.log(JSON.stringify({ ...l, elapsed: Math.round((performance.now() - t0) / 1000), cpuSeconds: Math.round((c.user + c.system) / 1e6), load1: Number(os.loadavg()[0]?.toFixed(2)) }));
  },
});
const trainSeconds = (performance.now() - t1) / 1000;
const { test } = splits;
let correct = 0;
for (let start = 0; start < test.count; start += 64) {
  const n = Math.min(64, test.count - start);
  const frame = size * size * 3;
  let pred: Int32Array = new Int32Array(0);
  tf.tidy(() => {
    pred = tf.argMax(result.model.predict(imagesToTensor(test.pixels.subarray(start * frame, (start + n) * frame), n, size)) as tf.Tensor, 1).dataSync() as Int32Array;
  });
  for (let i = 0; i < n; i++) if (pred[i] === test.labels[start + i]) correct++;
}
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    testAccuracy: correct / test.count,
    testCount: test.count,
    bestEpoch: result.bestEpoch,
    epochsRun: result.history.length,
    stoppedEarly: result.stoppedEarly,
    backend: result.backend,
    loadSeconds: Math.round(loadSeconds),
    trainSeconds: Math.round(trainSeconds),
    wallSeconds: Math.round((performance.now() - t0) / 1000),
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e6),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  }),
);

/**
 * Per-kernel timings of one training step in this thread (tf.profile), plus the kernels a step
 * uses, so that missing or slow kernels on a backend show up:
 *
 *   npx tsx bench/train-speed/profile.ts [--backend wasm] [--size 128] [--batch 16] [--architecture simple-cnn]
 *
 * For a CPU profile of the whole run (worker threads included):
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/train-speed/train-speed.ts --sizes 128
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendPreference } from '../../src/ml/backend/select.js';
import { isScratchArchitecture } from '../../src/ml/model-factory.js';
import { Replica } from '../../src/ml/fit/replica.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '16' },
    architecture: { type: 'string', default: 'simple-cnn' },
  },
});
const architecture = values.architecture;
if (!isScratchArchitecture(architecture)) throw new Error(`not a from-scratch architecture: ${architecture}`);
const size = Number(values.size);
const batch = Number(values.batch);
const chosen = await selectBackend({ preference: values.backend as BackendPreference });
const replica = await Replica.create({ spec: { architecture, imageSize: size, numClasses: 2, seed: 1 }, learningRate: 1e-3, backend: values.backend as BackendPreference });
const pixels = Uint8Array.from({ length: batch * size * size * 3 }, (_, i) => (i * 2654435761) >>> 24);
const labels = Int32Array.from({ length: batch }, (_, i) => i % 2);
const step = (seed: number): void => replica.apply(replica.step(pixels, labels, batch, seed).grads);
step(1);
const before = tf.memory().numTensors;
const profile = await tf.profile(() => step(2));
const per = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const e = per.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += k.kernelTimeMs as number;
  e.calls++;
  per.set(k.name, e);
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const steps = 3;
for (let i = 0; i < steps; i++) step(3 + i);
const wall = (performance.now() - t0) / steps;
const c = process.cpuUsage(cpu0);
console.log(`backend ${chosen.name}, ${architecture} ${size}px batch ${batch}: ${wall.toFixed(0)} ms/step wall, ${((c.user + c.system) / 1000 / steps).toFixed(0)} ms/step CPU, ${((batch / wall) * 1000).toFixed(1)} img/s on one thread`);
console.log(`tensors before/after: ${before}/${tf.memory().numTensors}`);
console.log('kernel                        ms  calls');
for (const [name, e] of [...per].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${name.padEnd(26)} ${e.ms.toFixed(1).padStart(8)}  ${e.calls}`);

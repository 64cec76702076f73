import { seededRandom } from '../../../shared/random.js';
import type { LabeledImages } from '../types.js';

/**
 * Generated two-class images for tests: horizontal (label 0) or vertical (label 1) stripes with a
 * random period, phase and colour plus noise. Invariant under horizontal flips, so augmentation
 * does not change the label.
 */
export function stripes(count: number, size: number, seed: number): LabeledImages {
  const rng = seededRandom(seed);
  const pixels = new Uint8Array(count * size * size * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels[n] = label;
    const period = 3 + Math.floor(rng() * 4);
    const phase = Math.floor(rng() * period);
    const colour = [rng(), rng(), rng()].map((c) => 80 + c * 175);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const t = label === 0 ? y : x;
        const on = (t + phase) % period < period / 2;
        for (let c = 0; c < 3; c++) {
          const v = (on ? (colour[c] as number) : 30) + (rng() - 0.5) * 40;
          pixels[((n * size + y) * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return { pixels, labels, count, imageSize: size };
}

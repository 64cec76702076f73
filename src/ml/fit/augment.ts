import type { Augmentation } from './types.js';

/** Fisher–Yates shuffle of 0..n−1 with the given generator. */
export function shuffledIndices(n: number, rng: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return idx;
}

/**
 * Gathers images `indices` of `source` (size² × 3 bytes each) into a new batch buffer, applying
 * the augmentation with parameters drawn from `rng` (none when `augmentation` is undefined).
 */
export function gatherBatch(source: Uint8Array, size: number, indices: ArrayLike<number>, augmentation: Augmentation | undefined, rng: () => number): Uint8Array {
  const img = size * size * 3;
  const out = new Uint8Array(indices.length * img);
  const maxShift = augmentation?.randomCrop ? Math.floor(size / 8) : 0;
  const bright = augmentation?.brightness ?? 0;
  for (let k = 0; k < indices.length; k++) {
    const src = (indices[k] as number) * img;
    const dst = k * img;
    const flip = augmentation?.horizontalFlip === true && rng() < 0.5;
    const dx = maxShift ? Math.floor(rng() * (2 * maxShift + 1)) - maxShift : 0;
    const dy = maxShift ? Math.floor(rng() * (2 * maxShift + 1)) - maxShift : 0;
    const gain = bright ? 1 + (rng() * 2 - 1) * bright : 1;
    if (!flip && dx === 0 && dy === 0 && gain === 1) {
      out.set(source.subarray(src, src + img), dst);
      continue;
    }
    for (let y = 0; y < size; y++) {
      const sy = Math.min(size - 1, Math.max(0, y + dy));
      for (let x = 0; x < size; x++) {
        let sx = Math.min(size - 1, Math.max(0, x + dx));
        if (flip) sx = size - 1 - sx;
        const s = src + (sy * size + sx) * 3;
        const d = dst + (y * size + x) * 3;
        if (gain === 1) {
          out[d] = source[s] as number;
          out[d + 1] = source[s + 1] as number;
          out[d + 2] = source[s + 2] as number;
        } else {
          out[d] = Math.min(255, (source[s] as number) * gain);
          out[d + 1] = Math.min(255, (source[s + 1] as number) * gain);
          out[d + 2] = Math.min(255, (source[s + 2] as number) * gain);
        }
      }
    }
  }
  return out;
}

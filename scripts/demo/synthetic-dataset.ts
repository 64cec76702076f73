import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export const SYNTHETIC_CLASSES = ['horizontal', 'vertical'] as const;

/**
 * Writes a small, learnable two-class image dataset under `dir`: `horizontal/` and `vertical/`
 * stripes of random colours, period, phase and noise, as JPEGs of `size`×`size`. Deterministic
 * for a seed. Used by the demo when no photos are given, so that a fresh machine needs nothing
 * but the repository. Returns the files written per class.
 */
export async function writeStripesDataset(dir: string, opts: { perClass: number; size?: number; seed?: number }): Promise<Record<string, string[]>> {
  const size = opts.size ?? 48;
  let s = opts.seed ?? 7;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const colour = (): [number, number, number] => [rand() * 255, rand() * 255, rand() * 255];
  const out: Record<string, string[]> = {};
  for (const cls of SYNTHETIC_CLASSES) {
    await mkdir(path.join(dir, cls), { recursive: true });
    out[cls] = [];
    for (let i = 0; i < opts.perClass; i++) {
      const a = colour();
      let b = colour();
      while (Math.abs(a[0] + a[1] + a[2] - b[0] - b[1] - b[2]) < 150) b = colour();
      const period = 8 + Math.floor(rand() * 8);
      const phase = Math.floor(rand() * period);
      const raw = Buffer.alloc(size * size * 3);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const t = cls === 'horizontal' ? y : x;
          const c = ((t + phase) % period) * 2 < period ? a : b;
          for (let ch = 0; ch < 3; ch++) raw[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round((c[ch] as number) + (rand() - 0.5) * 40)));
        }
      }
      const file = path.join(dir, cls, `${cls}-${String(i).padStart(4, '0')}.jpg`);
      await writeFile(file, await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
      out[cls].push(file);
    }
  }
  return out;
}

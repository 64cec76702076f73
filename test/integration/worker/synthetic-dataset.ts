import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export interface SyntheticDatasetOptions {
  /** Images per class. */
  readonly perClass: number;
  /** Side of each generated image. */
  readonly size?: number;
  readonly seed?: number;
}

/**
 * Writes a two-class dataset under `dir`: `bright/` (light noisy images, PNG) and `dark/`
 * (dark noisy images, JPEG, some named .png to check sniffing), plus `bright/broken.jpg`
 * (a truncated JPEG), `dark/empty.jpg` (zero bytes), `dark/notes.txt` (text) and an exact
 * duplicate `bright/copy-of-0.png`. Returns the names of the files that must be skipped.
 */
export async function writeSyntheticDataset(dir: string, options: SyntheticDatasetOptions): Promise<{ skipped: string[]; duplicates: string[] }> {
  const size = options.size ?? 24;
  let s = options.seed ?? 1;
  const rand = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  const image = (base: number, side = size): Buffer => {
    const raw = Buffer.alloc(side * side * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.max(0, Math.min(255, Math.round(base + (rand() - 0.5) * 80)));
    return raw;
  };
  await mkdir(path.join(dir, 'bright'), { recursive: true });
  await mkdir(path.join(dir, 'dark'), { recursive: true });
  const raw = { raw: { width: size, height: size, channels: 3 as const } };
  for (let i = 0; i < options.perClass; i++) {
    await writeFile(path.join(dir, 'bright', `${i}.png`), await sharp(image(200), raw).png().toBuffer());
    const dark = await sharp(image(50), raw).jpeg({ quality: 92 }).toBuffer();
    await writeFile(path.join(dir, 'dark', i % 5 === 0 ? `${i}.png` : `${i}.jpg`), dark);
  }
  const full = await sharp(image(200, 64), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  await writeFile(path.join(dir, 'bright', 'broken.jpg'), full.subarray(0, Math.floor(full.length / 2)));
  await writeFile(path.join(dir, 'dark', 'empty.jpg'), Buffer.alloc(0));
  await writeFile(path.join(dir, 'dark', 'notes.txt'), 'not an image\n');
  const first = await readFile(path.join(dir, 'bright', '0.png'));
  await writeFile(path.join(dir, 'bright', 'copy-of-0.png'), first);
  return { skipped: ['bright/broken.jpg', 'dark/empty.jpg', 'dark/notes.txt'], duplicates: ['bright/copy-of-0.png'] };
}

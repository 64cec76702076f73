import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Storage as GcsClient } from '@google-cloud/storage';
import { mapLimit } from '../../../src/worker/dataset/map-limit.js';

/** The shared photos beside the repository (never copied into it). */
export const PHOTOS_DIR = fileURLToPath(new URL('../../../../shared/datasets/cats-dogs/', import.meta.url));

export function photosPresent(): boolean {
  return existsSync(path.join(PHOTOS_DIR, 'cat')) && existsSync(path.join(PHOTOS_DIR, 'dog'));
}

export interface PhotoSplit {
  /** Per class, the photos to train on (uploaded to the bucket). */
  readonly train: Readonly<Record<string, readonly string[]>>;
  /** Per class, photos the model never sees: for `kennel evaluate --url` and the steady load. */
  readonly heldOut: Readonly<Record<string, readonly string[]>>;
}

/**
 * A deterministic subset of a class-per-folder photo folder (the shared photos by default): per
 * class, sorted by name, the first `train` for training and the next `heldOut` held out.
 */
export async function choosePhotos(classes: readonly string[], counts: { train: number; heldOut: number }, root = PHOTOS_DIR): Promise<PhotoSplit> {
  const train: Record<string, string[]> = {};
  const heldOut: Record<string, string[]> = {};
  for (const c of classes) {
    const names = (await readdir(path.join(root, c))).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort();
    if (names.length < counts.train + counts.heldOut) throw new Error(`${path.join(root, c)} has ${names.length} photos, need ${counts.train + counts.heldOut}`);
    train[c] = names.slice(0, counts.train).map((n) => path.join(root, c, n));
    heldOut[c] = names.slice(counts.train, counts.train + counts.heldOut).map((n) => path.join(root, c, n));
  }
  return { train, heldOut };
}

/** Uploads photos as `gs://<bucket>/<prefix>/<class>/<file>` (creating the bucket), a few at a time. */
export async function uploadPhotos(endpoint: string, bucket: string, prefix: string, photos: Readonly<Record<string, readonly string[]>>): Promise<number> {
  const gcs = new GcsClient({ apiEndpoint: endpoint, projectId: 'kennel-e2e' });
  const [exists] = await gcs.bucket(bucket).exists();
  if (!exists) await gcs.createBucket(bucket);
  const items = Object.entries(photos).flatMap(([c, files]) => files.map((f) => ({ c, f })));
  await mapLimit(items, 8, async ({ c, f }) => {
    await gcs
      .bucket(bucket)
      .file(`${prefix}/${c}/${path.basename(f)}`)
      .save(await readFile(f), { resumable: false, contentType: /\.png$/i.test(f) ? 'image/png' : /\.webp$/i.test(f) ? 'image/webp' : 'image/jpeg' });
  });
  return items.length;
}

/** A class-per-folder view of `photos` under `dir`, made of symbolic links (the photos are not copied). */
export async function linkPhotos(dir: string, photos: Readonly<Record<string, readonly string[]>>): Promise<void> {
  for (const [c, files] of Object.entries(photos)) {
    await mkdir(path.join(dir, c), { recursive: true });
    for (const f of files) await symlink(f, path.join(dir, c, path.basename(f)));
  }
}

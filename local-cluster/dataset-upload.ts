import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Storage as GcsClient } from '@google-cloud/storage';
import { mapLimit } from '../src/worker/dataset/map-limit.js';

export interface PhotoSplit {
  /** Per class, the photos to train on (uploaded to the bucket). */
  readonly train: Readonly<Record<string, readonly string[]>>;
  /** Per class, photos the model never sees: for a final prediction, `kennel evaluate --url` or a steady load. */
  readonly heldOut: Readonly<Record<string, readonly string[]>>;
}

/**
 * A deterministic subset of a class-per-folder photo folder: per class, sorted by name, the first
 * `train` for training and the next `heldOut` held out. Fails, naming the folder, when a class
 * has fewer photos than that.
 */
export async function choosePhotos(classes: readonly string[], counts: { train: number; heldOut: number }, root: string): Promise<PhotoSplit> {
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

/**
 * Uploads photos as `gs://<bucket>/<prefix>/<class>/<file>` to the GCS endpoint (the local
 * cluster's emulator), creating the bucket, a few at a time; resolves to the number uploaded.
 */
export async function uploadPhotos(endpoint: string, bucket: string, prefix: string, photos: Readonly<Record<string, readonly string[]>>): Promise<number> {
  const gcs = new GcsClient({ apiEndpoint: endpoint, projectId: 'kennel-local' });
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

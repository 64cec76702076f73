import { createHash } from 'node:crypto';
import { TerminalError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { isStorageError, type Storage } from '../../shared/storage/index.js';
import { decodeImage, ImageDecodeError, type ImageDecodeReason, type ResizeMode } from '../../ml/image.js';
import { listDataset } from './list-dataset.js';
import { mapLimit } from './map-limit.js';

export type SkipReason = ImageDecodeReason | 'vanished';

/** A file that is not in the dataset, and why; named in the report. */
export interface SkippedFile {
  readonly name: string;
  readonly reason: SkipReason;
  readonly message: string;
}

/** An exact byte-for-byte copy of an earlier image, dropped so that it cannot straddle splits. */
export interface DuplicateFile {
  readonly name: string;
  readonly duplicateOf: string;
}

export interface DatasetImage {
  readonly name: string;
  readonly classIndex: number;
  /** sha256 of the file's bytes (hex): decides its split, feeds the dataset digest. */
  readonly sha256: string;
  /** imageSize × imageSize × 3 RGB bytes. */
  readonly pixels: Uint8Array;
}

export interface LoadedDataset {
  readonly uri: string;
  readonly classes: readonly string[];
  readonly imageSize: number;
  readonly resize: ResizeMode;
  /** Decoded, de-duplicated images, ordered by class then name. */
  readonly images: readonly DatasetImage[];
  readonly skipped: readonly SkippedFile[];
  readonly duplicates: readonly DuplicateFile[];
  /** Files directly under the prefix, outside every class folder (README, manifests): not data, not counted as skipped. */
  readonly ignored: readonly string[];
  /** sha256 over the sorted (class, file sha256) pairs of the kept images. */
  readonly digest: string;
}

export interface LoadDatasetOptions {
  readonly uri: string;
  readonly storage: Storage;
  readonly imageSize: number;
  readonly resize?: ResizeMode;
  readonly classes?: readonly string[];
  /** Files read and decoded at once (default 8). */
  readonly concurrency?: number;
  readonly maxPixels?: number;
  readonly logger?: Logger;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Reads a class-per-folder dataset and decodes every image to `imageSize`² RGB bytes. A file
 * that is empty, truncated, corrupt, too large or not an image is skipped, counted and named;
 * storage failures other than a file vanishing mid-run are fatal (they are not about the data).
 * Throws TerminalError 'DatasetNotFound' / 'InvalidDataset' (see listDataset) and
 * 'InvalidDataset' when a class has no readable image.
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<LoadedDataset> {
  const { uri, storage, imageSize, resize = 'cover', concurrency = 8, logger } = options;
  const listing = await listDataset(uri, storage, options.classes);
  const skipped: SkippedFile[] = [];
  const ignored = listing.outside.map((e) => e.name);
  if (ignored.length > 0) logger?.info({ ignored }, 'files outside the class folders ignored');
  let done = 0;
  const total = listing.files.length;
  const decoded = await mapLimit(listing.files, concurrency, async (file) => {
    try {
      const bytes = await storage.read(file.uri);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const img = await decodeImage(bytes, { size: imageSize, resize, ...(options.maxPixels ? { maxPixels: options.maxPixels } : {}) });
      return { name: file.name, classIndex: file.classIndex, sha256, pixels: img.pixels } satisfies DatasetImage;
    } catch (err) {
      if (err instanceof ImageDecodeError) {
        skipped.push({ name: file.name, reason: err.reason, message: err.message });
        return undefined;
      }
      if (isStorageError(err, 'NotFound')) {
        skipped.push({ name: file.name, reason: 'vanished', message: 'listed but gone when read' });
        return undefined;
      }
      throw err;
    } finally {
      done++;
      options.onProgress?.(done, total);
    }
  });

  const seen = new Map<string, string>();
  const images: DatasetImage[] = [];
  const duplicates: DuplicateFile[] = [];
  for (const img of decoded) {
    if (!img) continue;
    const first = seen.get(img.sha256);
    if (first !== undefined) {
      duplicates.push({ name: img.name, duplicateOf: first });
      continue;
    }
    seen.set(img.sha256, img.name);
    images.push(img);
  }
  skipped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (skipped.length > 0) logger?.warn({ skipped: skipped.length, examples: skipped.slice(0, 5) }, 'dataset files skipped');
  if (duplicates.length > 0) logger?.info({ duplicates: duplicates.length }, 'duplicate images dropped');

  if (images.length === 0) throw new TerminalError('InvalidDataset', `no readable image under ${uri} (${skipped.length} files skipped: ${summarize(skipped)})`);
  const perClass = listing.classes.map((_, i) => images.filter((img) => img.classIndex === i).length);
  const empty = listing.classes.filter((_, i) => perClass[i] === 0);
  if (empty.length > 0) {
    throw new TerminalError('InvalidDataset', `class ${empty.map((c) => JSON.stringify(c)).join(', ')} has no readable image under ${uri}; a classifier needs images of at least two classes`);
  }
  logger?.info({ uri, classes: listing.classes, perClass, skipped: skipped.length, duplicates: duplicates.length }, 'dataset loaded');
  return { uri, classes: listing.classes, imageSize, resize, images, skipped, duplicates, ignored, digest: datasetDigest(listing.classes, images) };
}

/** sha256 over the sorted lines `class\tsha256\n`: the same photos with the same labels give the same digest. */
export function datasetDigest(classes: readonly string[], images: readonly Pick<DatasetImage, 'classIndex' | 'sha256'>[]): string {
  const lines = images.map((img) => `${classes[img.classIndex]}\t${img.sha256}\n`).sort();
  const h = createHash('sha256');
  for (const line of lines) h.update(line);
  return h.digest('hex');
}

function summarize(skipped: readonly SkippedFile[]): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).join(', ') || 'none';
}

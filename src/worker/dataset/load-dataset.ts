import { createHash } from 'node:crypto';
import { TerminalError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { isStorageError, type Storage } from '../../shared/storage/index.js';
import { decodeImage, ImageDecodeError, type ImageDecodeReason, type ResizeMode } from '../../ml/image.js';
import type { FeedbackStats } from './feedback-examples.js';
import { listSources, type DatasetSource, type DatasetSourceType } from './list-sources.js';
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
  /** Where the file was read from (the report makes thumbnails from it). */
  readonly uri: string;
  readonly classIndex: number;
  /** sha256 of the file's bytes (hex): decides its split, feeds the dataset digest. */
  readonly sha256: string;
  /** imageSize × imageSize × 3 RGB bytes. */
  readonly pixels: Uint8Array;
}

/** One source of a dataset as it was read: what lineage records. */
export interface LoadedSource {
  readonly uri: string;
  readonly type: DatasetSourceType;
  /** Digest of this source's own readable images (see datasetDigest), duplicates of other sources included. */
  readonly digest: string;
  /** Its readable images. */
  readonly images: number;
  /** For a prediction log: how its feedback became examples. */
  readonly feedback?: FeedbackStats;
}

export interface LoadedDataset {
  /** The first source's URI. */
  readonly uri: string;
  /** Every source, in the order given. */
  readonly sources: readonly LoadedSource[];
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
  /** One class-per-folder prefix (with `storage`), or `sources` (with `storageOf`). */
  readonly uri?: string;
  readonly storage?: Storage;
  /** Several sources; an image in several of them keeps the label of the first. */
  readonly sources?: readonly DatasetSource[];
  readonly storageOf?: (uri: string) => Storage;
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
 * Reads a class-per-folder dataset — or several sources: class-per-folder prefixes and
 * prediction logs (labelled by their feedback), see listSources — and decodes every image to
 * `imageSize`² RGB bytes. Each source's digest is recorded beside the whole set's. A file
 * that is empty, truncated, corrupt, too large or not an image is skipped, counted and named;
 * storage failures other than a file vanishing mid-run are fatal (they are not about the data).
 * Throws TerminalError 'DatasetNotFound' / 'InvalidDataset' (see listDataset) and
 * 'InvalidDataset' when a class has no readable image.
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<LoadedDataset> {
  const { imageSize, resize = 'cover', concurrency = 8, logger } = options;
  const sources = options.sources ?? (options.uri ? [{ uri: options.uri, type: 'ClassFolders' as const }] : []);
  const storageOf = options.storageOf ?? (() => options.storage as Storage);
  if (!options.storageOf && !options.storage) throw new Error('loadDataset needs storage or storageOf');
  const uri = sources.map((src) => src.uri).join(', ');
  const storages = new Map(sources.map((src) => [src.uri, storageOf(src.uri)]));
  const listing = await listSources(sources, (u) => storages.get(u) ?? storageOf(u), options.classes);
  const skipped: SkippedFile[] = [];
  const ignored = listing.outside.map((e) => e.name);
  if (ignored.length > 0) logger?.info({ ignored }, 'files outside the class folders ignored');
  for (const [i, stats] of listing.feedback) logger?.info({ source: sources[i]?.uri, ...stats, unknownLabels: listing.unknownLabels.get(i) ?? 0 }, 'feedback examples from the prediction log');
  let done = 0;
  const total = listing.files.length;
  const decoded = await mapLimit(listing.files, concurrency, async (file) => {
    try {
      const bytes = await (storages.get(sources[file.source]?.uri ?? '') as Storage).read(file.uri);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const img = await decodeImage(bytes, { size: imageSize, resize, ...(options.maxPixels ? { maxPixels: options.maxPixels } : {}) });
      return { name: file.name, uri: file.uri, classIndex: file.classIndex, sha256, pixels: img.pixels, source: file.source };
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
  const loadedSources: LoadedSource[] = sources.map((src, i) => {
    // Within a source, an exact copy counts once (as in the dataset's own digest).
    const mine = [...new Map(decoded.filter((d): d is NonNullable<typeof d> => d !== undefined && d.source === i).reverse().map((d) => [d.sha256, d])).values()];
    const stats = listing.feedback.get(i);
    return { uri: src.uri, type: src.type, digest: datasetDigest(listing.classes, mine), images: mine.length, ...(stats ? { feedback: stats } : {}) };
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
    images.push({ name: img.name, uri: img.uri, classIndex: img.classIndex, sha256: img.sha256, pixels: img.pixels });
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
  return { uri: sources[0]?.uri ?? '', sources: loadedSources, classes: listing.classes, imageSize, resize, images, skipped, duplicates, ignored, digest: datasetDigest(listing.classes, images) };
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

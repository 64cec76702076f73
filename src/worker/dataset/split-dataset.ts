import { TerminalError } from '../../shared/errors.js';
import type { LabeledImages } from '../../ml/fit/types.js';
import type { LoadedDataset } from './load-dataset.js';
import { splitOf, type SplitFractions, type SplitName } from './split.js';

export interface SplitData extends LabeledImages {
  /** Dataset-relative names, parallel to labels. */
  readonly names: readonly string[];
  /** Storage URI of each image's file, parallel to labels. */
  readonly uris: readonly string[];
  /** sha256 of each image's file, parallel to labels: the key of any per-image cache. */
  readonly keys: readonly string[];
}

export type DatasetSplits = Record<SplitName, SplitData>;

/**
 * Assigns every image to train, validation or test by the hash of its bytes (see splitOf) and
 * packs each split into one buffer. Throws TerminalError 'InvalidDataset' when train or test is
 * empty (too few images for the fractions).
 */
export function splitDataset(dataset: LoadedDataset, fractions: SplitFractions, seed = 0): DatasetSplits {
  const groups: Record<SplitName, number[]> = { train: [], validation: [], test: [] };
  dataset.images.forEach((img, i) => groups[splitOf(img.sha256, fractions, seed)].push(i));
  const splits = { train: packImages(dataset, groups.train), validation: packImages(dataset, groups.validation), test: packImages(dataset, groups.test) };
  for (const name of ['train', 'test'] as const) {
    if (splits[name].count === 0) {
      throw new TerminalError('InvalidDataset', `the ${name} split is empty: ${dataset.images.length} images are too few for fractions ${JSON.stringify(fractions)}`);
    }
  }
  return splits;
}

/** Packs the images at `indices` (all of them by default) into one contiguous buffer, in that order. */
export function packImages(dataset: Pick<LoadedDataset, 'images' | 'imageSize'>, indices?: readonly number[]): SplitData {
  const which = indices ?? dataset.images.map((_, i) => i);
  const frame = dataset.imageSize * dataset.imageSize * 3;
  const pixels = new Uint8Array(which.length * frame);
  const labels = new Int32Array(which.length);
  const names: string[] = [];
  const keys: string[] = [];
  const uris: string[] = [];
  which.forEach((src, j) => {
    const img = dataset.images[src];
    if (!img) throw new RangeError(`image index ${src} out of range`);
    pixels.set(img.pixels, j * frame);
    labels[j] = img.classIndex;
    names.push(img.name);
    keys.push(img.sha256);
    uris.push(img.uri);
  });
  return { pixels, labels, count: which.length, imageSize: dataset.imageSize, names, keys, uris };
}

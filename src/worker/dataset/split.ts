import { createHash } from 'node:crypto';

export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

/** Fractions of the dataset per split; they must sum to 1. */
export interface SplitFractions {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
}

export const DEFAULT_SPLIT: SplitFractions = Object.freeze({ train: 0.8, validation: 0.1, test: 0.1 });

/** Throws a RangeError unless every fraction is in [0, 1], train > 0, test > 0 and they sum to 1. */
export function validateSplit(f: SplitFractions): SplitFractions {
  for (const name of SPLITS) {
    const v = f[name];
    if (!(Number.isFinite(v) && v >= 0 && v <= 1)) throw new RangeError(`split fraction ${name} must be in [0, 1], got ${v}`);
  }
  if (f.train <= 0 || f.test <= 0) throw new RangeError('split fractions for train and test must be above 0');
  const sum = f.train + f.validation + f.test;
  if (Math.abs(sum - 1) > 1e-6) throw new RangeError(`split fractions must sum to 1, got ${sum}`);
  return f;
}

/**
 * Position of an image in [0, 1), from the sha256 of its bytes (hex) and an optional seed:
 * the same bytes land in the same place on every run and machine, whatever the file's name.
 */
export function splitPosition(contentSha256: string, seed = 0): number {
  const hex = seed === 0 ? contentSha256 : createHash('sha256').update(`${seed}:${contentSha256}`).digest('hex');
  return parseInt(hex.slice(0, 12), 16) / 2 ** 48;
}

/** Which split an image belongs to: train is [0, train), validation next, test the rest. */
export function splitOf(contentSha256: string, fractions: SplitFractions, seed = 0): SplitName {
  const p = splitPosition(contentSha256, seed);
  if (p < fractions.train) return 'train';
  if (p < fractions.train + fractions.validation) return 'validation';
  return 'test';
}

import { createHash } from 'node:crypto';
import type { StorageEntry } from '../../shared/storage/index.js';

/**
 * Which shard an image belongs to: the first 32 bits of the sha256 of its path (relative to the
 * input prefix), modulo the number of shards. It depends on the path alone, never on which other
 * files are listed, so every pod of a batch (and every retry of a pod) agrees on it even when
 * files are added to the prefix while the batch runs.
 */
export function shardOf(path: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  return createHash('sha256').update(path).digest().readUInt32BE(0) % shards;
}

/** What a pod classifies: its own shard of the candidates, and how many candidates there are in all. */
export interface ShardSelection {
  /** The shard's images, sorted by path. */
  readonly mine: readonly StorageEntry[];
  /** Candidates under the input prefix, every shard together. */
  readonly total: number;
}

/**
 * The images of shard `shard` of `shards` among the objects listed under the input prefix:
 * hidden files (a path segment starting with `.`) are not candidates, nor is anything under the
 * output prefix (`excluded`, when it lies inside the input).
 */
export function selectShard(entries: readonly StorageEntry[], o: { shard: number; shards: number; excluded?: (entry: StorageEntry) => boolean }): ShardSelection {
  const candidates = entries.filter((e) => !e.name.split('/').some((segment) => segment.startsWith('.')) && !o.excluded?.(e));
  const mine = candidates.filter((e) => shardOf(e.name, o.shards) === o.shard).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { mine, total: candidates.length };
}

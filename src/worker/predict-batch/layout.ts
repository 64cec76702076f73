import { joinUri } from '../../shared/storage/index.js';

/**
 * Where a batch writes under its output prefix. The product is one JSON Lines file per shard and
 * a summary; `_shards/` holds each shard's commit log (the parts written so far, then the
 * shard's own summary, which marks it complete).
 *
 *     <out>/predictions-00000-of-00003.jsonl
 *     <out>/summary.json
 *     <out>/_shards/00000-of-00003/part-000000.jsonl, part-000001.jsonl, ...
 *     <out>/_shards/00000-of-00003/summary.json
 *
 * The shard count is in every name, so a batch re-run into the same prefix with another
 * parallelism never mixes its shards with the earlier ones.
 */
export function shardTag(shard: number, shards: number): string {
  return `${String(shard).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`;
}

export function shardDirUri(out: string, shard: number, shards: number): string {
  return joinUri(out, `_shards/${shardTag(shard, shards)}`);
}

export function partUri(out: string, shard: number, shards: number, part: number): string {
  return joinUri(shardDirUri(out, shard, shards), `part-${String(part).padStart(6, '0')}.jsonl`);
}

/** The part number of a commit-log object's name, or undefined for anything else. */
export function partNumber(name: string): number | undefined {
  const m = /^part-(\d{6,})\.jsonl$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function shardSummaryUri(out: string, shard: number, shards: number): string {
  return joinUri(shardDirUri(out, shard, shards), 'summary.json');
}

/** The shard's JSON Lines, relative to the output prefix. */
export function predictionsName(shard: number, shards: number): string {
  return `predictions-${shardTag(shard, shards)}.jsonl`;
}

export function summaryUri(out: string): string {
  return joinUri(out, 'summary.json');
}

import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BatchResultLine } from '../../shared/api/batch-report.js';
import type { Logger } from '../../shared/logger.js';
import type { Storage } from '../../shared/storage/index.js';
import { partNumber, partUri, shardDirUri } from './layout.js';

/**
 * A shard's commit log: its results in numbered parts, each one object written whole (GCS and the
 * file storage both make a write all-or-nothing), so what a killed pod leaves behind is a prefix
 * of complete parts, never half a line. A restarted pod reads them back and carries on with what
 * is not in them.
 */
export interface CommittedShard {
  /** Every committed line, in part order, each path once. */
  readonly lines: readonly BatchResultLine[];
  /** Paths already done (classified or failed). */
  readonly done: ReadonlySet<string>;
  /** The number the next part gets. */
  readonly nextPart: number;
}

let lineCheck: ReturnType<typeof TypeCompiler.Compile<typeof BatchResultLine>> | undefined;

/** Parses one part; undefined when any line is not a result line (such a part is ignored, and its images redone). */
export function parsePart(text: string): BatchResultLine[] | undefined {
  lineCheck ??= TypeCompiler.Compile(BatchResultLine);
  const lines: BatchResultLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
    if (!lineCheck.Check(value)) return undefined;
    lines.push(value);
  }
  return lines;
}

export function serializePart(lines: readonly BatchResultLine[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}

/** Reads what earlier attempts of this shard committed under `out`. */
export async function readCommitted(storage: Storage, out: string, shard: number, shards: number, logger?: Logger): Promise<CommittedShard> {
  const entries = await storage.list(shardDirUri(out, shard, shards));
  const parts = entries
    .map((e) => ({ entry: e, n: partNumber(e.name) }))
    .filter((p): p is { entry: (typeof entries)[number]; n: number } => p.n !== undefined)
    .sort((a, b) => a.n - b.n);
  const lines: BatchResultLine[] = [];
  const done = new Set<string>();
  for (const { entry } of parts) {
    const parsed = parsePart((await storage.read(entry.uri)).toString('utf8'));
    if (!parsed) {
      logger?.warn({ part: entry.uri }, 'committed part is not JSON Lines of results: ignored, its images are redone');
      continue;
    }
    for (const line of parsed) {
      if (done.has(line.path)) continue;
      done.add(line.path);
      lines.push(line);
    }
  }
  const last = parts.at(-1)?.n;
  return { lines, done, nextPart: last === undefined ? 0 : last + 1 };
}

/** Commits one part (whole or not at all). */
export async function commitPart(storage: Storage, out: string, shard: number, shards: number, part: number, lines: readonly BatchResultLine[]): Promise<void> {
  await storage.write(partUri(out, shard, shards, part), serializePart(lines), { contentType: 'application/x-ndjson' });
}

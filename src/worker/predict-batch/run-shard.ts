import type { BatchProgress, BatchShardSuccess, BatchShardSummary, BatchSummary } from '../../shared/api/batch-report.js';
import { TerminalError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { isStorageError, joinUri, type Storage } from '../../shared/storage/index.js';
import type { BatchClassifier } from './classifier.js';
import { classifyChunk } from './classify-chunk.js';
import { commitPart, readCommitted, serializePart } from './commit-log.js';
import { predictionsName, shardSummaryUri, summaryUri } from './layout.js';
import { isInside, type BatchOptions } from './options.js';
import { selectShard } from './shard.js';
import { countLines, mergeSummaries } from './summary.js';

export interface ShardDeps {
  readonly storageFor: (uri: string) => Storage;
  readonly classifier: BatchClassifier;
  readonly logger: Logger;
  /** Called after every committed part (and once at the start): the operator reads these from the pod log. */
  readonly report: (progress: BatchProgress) => void;
  readonly now?: () => number;
}

/**
 * Runs one shard: list the input, take this shard's images, skip what earlier attempts committed,
 * classify the rest chunk by chunk (each chunk committed as one part before the next starts),
 * then write the shard's JSON Lines and its summary (which marks it complete) and, when every
 * shard's summary is there, the batch's summary.json. Idempotent: run again, it redoes nothing
 * committed and rewrites the same files.
 */
export async function runShard(o: BatchOptions, deps: ShardDeps): Promise<BatchShardSuccess> {
  const { classifier, logger } = deps;
  const now = deps.now ?? (() => performance.now());
  const input = deps.storageFor(o.inputUri);
  const out = deps.storageFor(o.outputUri);
  const listing = await input.list(o.inputUri);
  const { mine, total } = selectShard(listing, { shard: o.shard, shards: o.shards, excluded: (e) => isInside(e.uri, o.outputUri) });
  if (total === 0) throw new TerminalError('InputNotFound', `no files under ${o.inputUri} to classify`);

  const committed = await readCommitted(out, o.outputUri, o.shard, o.shards, logger);
  const todo = mine.filter((e) => !committed.done.has(e.name));
  const lines = [...committed.lines];
  const resumed = mine.length - todo.length;
  let part = committed.nextPart;
  let failed = lines.filter((l) => 'error' in l).length;
  let classified = 0;
  const progress = (): BatchProgress => ({ event: 'batch-progress', shard: o.shard, shards: o.shards, done: resumed + classified, images: mine.length, total, failed });
  logger.info({ shard: o.shard, shards: o.shards, images: mine.length, total, resumed, nextPart: part }, resumed > 0 ? 'resuming shard after its committed parts' : 'starting shard');
  deps.report(progress());

  const started = now();
  for (let i = 0; i < todo.length; i += o.batchSize) {
    const chunk = todo.slice(i, i + o.batchSize);
    const chunkLines = await classifyChunk(chunk, { storage: input, classifier, concurrency: o.concurrency });
    await commitPart(out, o.outputUri, o.shard, o.shards, part++, chunkLines);
    lines.push(...chunkLines);
    classified += chunk.length;
    failed += chunkLines.filter((l) => 'error' in l).length;
    deps.report(progress());
  }
  const seconds = (now() - started) / 1000;

  const file = predictionsName(o.shard, o.shards);
  await out.write(joinUri(o.outputUri, file), serializePart(lines), { contentType: 'application/x-ndjson' });
  const shardSummary: BatchShardSummary = { ...countLines(lines, classifier.classes), shard: o.shard, shards: o.shards, file };
  await out.write(shardSummaryUri(o.outputUri, o.shard, o.shards), `${JSON.stringify(shardSummary, null, 2)}\n`, { contentType: 'application/json' });
  const written = await writeSummaryWhenComplete(out, o, classifier);
  if (written) logger.info({ summary: written }, 'every shard is complete: summary written');

  return {
    outcome: 'Succeeded',
    shard: o.shard,
    shards: o.shards,
    total,
    images: shardSummary.images,
    predicted: shardSummary.predicted,
    failed: shardSummary.failed,
    resumed,
    perClass: shardSummary.perClass,
    imagesPerSecond: seconds > 0 ? Math.round((classified / seconds) * 10) / 10 : 0,
    ...(written ? { summaryUri: written } : {}),
  };
}

/**
 * Writes summary.json once every shard's summary exists. Each pod writes its own shard summary
 * before it looks, so the last one to finish always sees them all (two finishing together may
 * both write it, with the same content). Returns its URI when this pod wrote it.
 */
async function writeSummaryWhenComplete(out: Storage, o: BatchOptions, classifier: BatchClassifier): Promise<string | undefined> {
  const shardSummaries: BatchShardSummary[] = [];
  for (let shard = 0; shard < o.shards; shard++) {
    try {
      shardSummaries.push(JSON.parse((await out.read(shardSummaryUri(o.outputUri, shard, o.shards))).toString('utf8')) as BatchShardSummary);
    } catch (err) {
      if (isStorageError(err, 'NotFound')) return undefined;
      throw err;
    }
  }
  const model: BatchSummary['model'] = { uri: o.modelUri, sha256: classifier.sha256, classes: [...classifier.classes], ...(o.modelVersion ? { modelVersion: o.modelVersion } : {}) };
  const summary = mergeSummaries(shardSummaries, { input: o.inputUri, model, shards: o.shards });
  const uri = summaryUri(o.outputUri);
  await out.write(uri, `${JSON.stringify(summary, null, 2)}\n`, { contentType: 'application/json' });
  return uri;
}

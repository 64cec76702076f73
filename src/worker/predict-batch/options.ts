import { TerminalError } from '../../shared/errors.js';
import { BACKEND_PREFERENCES, type BackendPreference } from '../../ml/backend/select.js';
import { MAX_BATCH_PARALLELISM } from '../../shared/api/batch-prediction.js';
import { parseInteger } from '../train/options.js';

/** Everything `kennel predict-batch` does, parsed and validated once at the boundary. */
export interface BatchOptions {
  /** The model artifact prefix (model.json, weights.bin, metadata.json). */
  readonly modelUri: string;
  /** The sha256 the registry recorded for the weights; the artifact's own metadata must agree. */
  readonly modelSha256?: string;
  /** The ModelVersion's name, recorded in summary.json. */
  readonly modelVersion?: string;
  readonly inputUri: string;
  readonly outputUri: string;
  readonly shards: number;
  readonly shard: number;
  /** Images predicted in one step and committed in one part. */
  readonly batchSize: number;
  /** Files read and decoded at once. */
  readonly concurrency: number;
  readonly backend: BackendPreference;
}

/** The raw option bag commander hands over. */
export interface RawBatchOptions {
  model?: string;
  modelSha256?: string;
  modelVersion?: string;
  input?: string;
  output?: string;
  shards?: string;
  shard?: string;
  batchSize?: string;
  concurrency?: string;
  backend?: string;
}

export const DEFAULT_BATCH_SIZE = 32;

const invalid = (message: string) => new TerminalError('InvalidArguments', message);

/**
 * Validates the flags. The shard index is `--shard`, or else `JOB_COMPLETION_INDEX`, which the
 * Job controller sets in every pod of an Indexed Job; the output prefix must not lie inside the
 * input prefix (its results would be read back as images).
 */
export function parseBatchOptions(raw: RawBatchOptions, env: NodeJS.ProcessEnv = process.env): BatchOptions {
  if (!raw.model) throw invalid('--model <uri> is required');
  if (!raw.input) throw invalid('--input <uri> is required');
  if (!raw.output) throw invalid('--output <uri> is required');
  if (raw.modelSha256 !== undefined && !/^[a-f0-9]{64}$/.test(raw.modelSha256)) throw invalid(`--model-sha256 must be 64 lowercase hex digits, got ${JSON.stringify(raw.modelSha256)}`);
  const shards = parseInteger('shards', raw.shards, 1, 1, MAX_BATCH_PARALLELISM);
  const shardText = raw.shard ?? env.JOB_COMPLETION_INDEX;
  if (shardText === undefined && shards > 1) throw invalid('--shard <index> is required with --shards > 1 (in an Indexed Job it comes from JOB_COMPLETION_INDEX)');
  const shard = parseInteger('shard', shardText, 0, 0, shards - 1);
  const backend = raw.backend ?? 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(backend)) throw invalid(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}`);
  const inputUri = trimSlash(raw.input);
  const outputUri = trimSlash(raw.output);
  if (isInside(outputUri, inputUri)) throw invalid(`--output ${outputUri} is inside --input ${inputUri}: its results would be read as images`);
  return Object.freeze({
    modelUri: trimSlash(raw.model),
    ...(raw.modelSha256 ? { modelSha256: raw.modelSha256 } : {}),
    ...(raw.modelVersion ? { modelVersion: raw.modelVersion } : {}),
    inputUri,
    outputUri,
    shards,
    shard,
    batchSize: parseInteger('batch-size', raw.batchSize, DEFAULT_BATCH_SIZE, 1, 1024),
    concurrency: parseInteger('concurrency', raw.concurrency, 8, 1, 256),
    backend: backend as BackendPreference,
  });
}

function trimSlash(uri: string): string {
  const trimmed = uri.replace(/\/+$/, '');
  // `gs://b/` → `gs://b`, but never `file:///` → `file:`.
  return trimmed.endsWith(':') || trimmed.endsWith(':/') ? uri : trimmed;
}

/** True when `uri` is `prefix` or lies under it (`gs://b/photos-out` is not under `gs://b/photos`). */
export function isInside(uri: string, prefix: string): boolean {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return `${uri}/`.startsWith(p);
}

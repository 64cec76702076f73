import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { BatchFailureReasons, type BatchFailureReason, type BatchShardFailure, type BatchShardOutcome } from '../../shared/api/batch-report.js';
import { TERMINATION_MESSAGE_LIMIT } from '../../shared/api/worker-report.js';
import { isTerminal } from '../../shared/errors.js';
import { isStorageError } from '../../shared/storage/index.js';
import { ArtifactError } from '../../ml/artifact.js';
import { isInside } from './options.js';

const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

/** Exit code of a failure retrying cannot fix (the Job fails the shard at once: podFailurePolicy FailIndex). */
export const TERMINAL_EXIT_CODE = 1;
/** Exit code of a failure a retry may get past (storage unavailable after the client's own retries, a crash): the Job retries the shard, which resumes. */
export const RETRYABLE_EXIT_CODE = 2;

const RETRYABLE: ReadonlySet<BatchFailureReason> = new Set(['StorageUnavailable', 'InternalError']);

export function exitCodeOf(failure: BatchShardFailure): number {
  return RETRYABLE.has(failure.reason) ? RETRYABLE_EXIT_CODE : TERMINAL_EXIT_CODE;
}

/** Maps any error of a shard's run to the reasons the operator understands. */
export function batchFailureFrom(err: unknown, context: { inputUri?: string; modelUri?: string }): BatchShardFailure {
  const message = err instanceof Error ? err.message : String(err);
  const known = (r: string): r is BatchFailureReason => (BatchFailureReasons as readonly string[]).includes(r);
  let reason: BatchFailureReason = 'InternalError';
  if (isTerminal(err) && known(err.reason)) reason = err.reason;
  else if (err instanceof ArtifactError) reason = 'ModelUnusable';
  else if (isStorageError(err)) {
    if (err.reason === 'NotFound') {
      if (context.modelUri && isInside(err.uri, context.modelUri)) reason = 'ModelUnusable';
      else if (context.inputUri && isInside(err.uri, context.inputUri)) reason = 'InputNotFound';
      else reason = 'InvalidArguments';
    } else if (err.reason === 'AccessDenied') reason = 'StorageAccessDenied';
    else if (err.reason === 'Unavailable') reason = 'StorageUnavailable';
    else reason = 'InvalidArguments';
  }
  return { outcome: 'Failed', reason, message };
}

/** The outcome within Kubernetes' 4 KiB: per-class counts go first (summary.json has them), then the message is cut. */
export function serializeBatchOutcome(outcome: BatchShardOutcome): string {
  const text = JSON.stringify(outcome);
  if (Buffer.byteLength(text) <= TERMINATION_MESSAGE_LIMIT) return text;
  if (outcome.outcome === 'Succeeded') {
    const { perClass: _dropped, ...slim } = outcome;
    return JSON.stringify(slim);
  }
  const overhead = Buffer.byteLength(JSON.stringify({ ...outcome, message: '' }));
  return JSON.stringify({ ...outcome, message: `${outcome.message.slice(0, Math.max(0, TERMINATION_MESSAGE_LIMIT - overhead - 200))}…` });
}

/** Writes the outcome to KENNEL_TERMINATION_LOG, or /dev/termination-log when Kubernetes mounted it; elsewhere nothing. */
export async function writeBatchTerminationMessage(outcome: BatchShardOutcome, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const path = env.KENNEL_TERMINATION_LOG || (existsSync(DEFAULT_TERMINATION_LOG) ? DEFAULT_TERMINATION_LOG : undefined);
  if (!path) return undefined;
  await writeFile(path, serializeBatchOutcome(outcome));
  return path;
}

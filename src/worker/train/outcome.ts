import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { TERMINATION_MESSAGE_LIMIT, WorkerFailureReasons, type WorkerFailure, type WorkerFailureReason, type WorkerOutcome } from '../../shared/api/worker-report.js';
import { isTerminal } from '../../shared/errors.js';
import { isStorageError } from '../../shared/storage/index.js';
import { ArtifactError } from '../../ml/artifact.js';

const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

/**
 * Serialises an outcome within Kubernetes' 4 KiB termination-message limit. A success with
 * many classes drops per-class figures, then the confusion matrix (both stay in metrics.json);
 * a failure's message is cut.
 */
export function serializeOutcome(outcome: WorkerOutcome): string {
  let text = JSON.stringify(outcome);
  if (Buffer.byteLength(text) <= TERMINATION_MESSAGE_LIMIT) return text;
  if (outcome.outcome === 'Succeeded') {
    const slim = { ...outcome, metrics: { ...outcome.metrics, perClass: {} } };
    text = JSON.stringify(slim);
    if (Buffer.byteLength(text) <= TERMINATION_MESSAGE_LIMIT) return text;
    text = JSON.stringify({ ...slim, metrics: { ...slim.metrics, confusionMatrix: [] } });
    return text;
  }
  const overhead = Buffer.byteLength(JSON.stringify({ ...outcome, message: '' }));
  return JSON.stringify({ ...outcome, message: outcome.message.slice(0, Math.max(0, TERMINATION_MESSAGE_LIMIT - overhead - 200)) + '…' });
}

/**
 * Writes the outcome to `KENNEL_TERMINATION_LOG`, or to /dev/termination-log when that file
 * exists (Kubernetes mounts it); on a laptop with neither, writes nothing. Returns the path used.
 */
export async function writeTerminationMessage(outcome: WorkerOutcome, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const path = env.KENNEL_TERMINATION_LOG || (existsSync(DEFAULT_TERMINATION_LOG) ? DEFAULT_TERMINATION_LOG : undefined);
  if (!path) return undefined;
  await writeFile(path, serializeOutcome(outcome));
  return path;
}

/** Maps any error to the failure reasons the operator understands. */
export function failureFrom(err: unknown, context: { dataUri?: string; dataUris?: readonly string[] } = {}): WorkerFailure {
  const message = err instanceof Error ? err.message : String(err);
  const known = (r: string): r is WorkerFailureReason => (WorkerFailureReasons as readonly string[]).includes(r);
  let reason: WorkerFailureReason = 'InternalError';
  if (isTerminal(err) && known(err.reason)) reason = err.reason;
  else if (isStorageError(err)) {
    // Not found outside the dataset: the output bucket (or a model to evaluate) does not exist.
    const dataUris = [...(context.dataUris ?? []), ...(context.dataUri ? [context.dataUri] : [])];
    if (err.reason === 'NotFound') reason = dataUris.some((u) => err.uri.startsWith(u)) ? 'DatasetNotFound' : 'InvalidArguments';
    else if (err.reason === 'AccessDenied') reason = 'StorageAccessDenied';
    else if (err.reason === 'Unavailable') reason = 'StorageUnavailable';
    else reason = 'InvalidArguments';
  } else if (err instanceof ArtifactError) reason = 'InternalError';
  return { outcome: 'Failed', reason, message };
}

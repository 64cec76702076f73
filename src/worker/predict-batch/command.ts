import { Value } from '@sinclair/typebox/value';
import { BatchShardOutcome, type BatchShardFailure } from '../../shared/api/batch-report.js';
import { createLogger } from '../../shared/logger.js';
import { storageFor } from '../../shared/storage/index.js';
import { selectBackend } from '../../ml/backend/select.js';
import { loadClassifier } from './classifier.js';
import { parseBatchOptions, type RawBatchOptions } from './options.js';
import { batchFailureFrom, exitCodeOf, writeBatchTerminationMessage } from './outcome.js';
import { runShard } from './run-shard.js';

/**
 * The composition root of `kennel predict-batch`: parse the flags, choose the backend, load the
 * model (sha256 checked), run the shard, write the termination message; returns the exit code
 * (0, or 1/2 for a failure a retry cannot/may get past). Logs are JSON lines on stdout, progress
 * lines (`event: "batch-progress"`) among them, which the operator reads from the pod log.
 */
export async function run(raw: RawBatchOptions, overrides: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const stdout = overrides.stdout ?? process.stdout;
  const stderr = overrides.stderr ?? process.stderr;
  const env = overrides.env ?? process.env;
  const logger = createLogger({ name: 'predict-batch', destination: stdout, level: env.KENNEL_LOG_LEVEL ?? 'info' });
  let outcome: BatchShardOutcome;
  let exitCode = 0;
  try {
    const o = parseBatchOptions(raw, env);
    await selectBackend({ preference: o.backend, logger, purpose: 'inference' });
    const storage = (uri: string) => storageFor(uri, { env });
    const classifier = await loadClassifier(o.modelUri, storage(o.modelUri), o.modelSha256);
    try {
      outcome = await runShard(o, { storageFor: storage, classifier, logger, report: (p) => logger.info(p, 'batch progress') });
    } finally {
      classifier.dispose();
    }
    logger.info(outcome, 'shard complete');
  } catch (err) {
    const failure: BatchShardFailure = batchFailureFrom(err, { ...(raw.input ? { inputUri: raw.input } : {}), ...(raw.model ? { modelUri: raw.model } : {}) });
    logger.error({ reason: failure.reason, err }, 'batch prediction failed');
    stderr.write(`kennel predict-batch failed (${failure.reason}): ${failure.message}\n`);
    outcome = failure;
    exitCode = exitCodeOf(failure);
  }
  if (!Value.Check(BatchShardOutcome, outcome)) logger.warn({ errors: [...Value.Errors(BatchShardOutcome, outcome)].slice(0, 3).map((e) => e.message) }, 'outcome does not match the contract');
  try {
    await writeBatchTerminationMessage(outcome, env);
  } catch (err) {
    logger.error({ err }, 'cannot write the termination message');
  }
  return exitCode;
}

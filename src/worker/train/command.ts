import { Value } from '@sinclair/typebox/value';
import { WorkerOutcome, type WorkerFailure } from '../../shared/api/worker-report.js';
import { createLogger } from '../../shared/logger.js';
import { storageFor } from '../../shared/storage/index.js';
import { selectBackend } from '../../ml/backend/select.js';
import { defaultFit, type FitFunction } from './default-fit.js';
import { failureFrom, writeTerminationMessage } from './outcome.js';
import { parseTrainOptions, type RawTrainOptions } from './options.js';
import { createProgressReporter } from './progress.js';
import { runTraining } from './train.js';

/** Test seams of the composition root: everything else is the real thing. */
export interface TrainCommandOverrides {
  readonly fit?: FitFunction;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The composition root of `kennel train`: wires logger, progress, backend, storage and the
 * training loop; writes the termination message; returns the exit code (0 success, 1 failure).
 * On a terminal, logs go to stderr (warnings only, unless KENNEL_LOG_LEVEL says otherwise) and
 * a progress bar to stdout; otherwise JSON lines on stdout, epoch lines included.
 */
export async function run(raw: RawTrainOptions, overrides: TrainCommandOverrides = {}): Promise<number> {
  const stdout = overrides.stdout ?? process.stdout;
  const stderr = overrides.stderr ?? process.stderr;
  const env = overrides.env ?? process.env;
  const tty = (stdout as { isTTY?: boolean }).isTTY === true;
  const logger = createLogger({
    name: 'worker',
    ...(tty ? { destination: stderr, level: env.KENNEL_LOG_LEVEL ?? 'warn' } : { destination: stdout, level: env.KENNEL_LOG_LEVEL ?? 'info' }),
  });
  const progress = createProgressReporter({ tty, stream: stdout, logger });
  let outcome: WorkerOutcome;
  let exitCode: number;
  try {
    const config = parseTrainOptions(raw);
    outcome = await runTraining(config, { logger, progress, fit: overrides.fit ?? defaultFit, selectBackend, storageFor: (uri) => storageFor(uri, { env }) });
    if (tty) {
      const m = outcome.metrics;
      stdout.write(
        `\nmodel saved to ${outcome.artifactUri}\ntest accuracy ${m.accuracy.toFixed(4)}  F1 ${m.f1.toFixed(4)}  ROC-AUC ${m.rocAuc?.toFixed(4) ?? '—'}  on ${m.testImages} images; ${outcome.skippedFiles} files skipped\nreport: ${outcome.artifactUri}/report/index.html\n`,
      );
    }
    exitCode = 0;
  } catch (err) {
    const dataUris = [raw.data, raw.predictionLog].flat().filter((u): u is string => typeof u === 'string');
    const failure: WorkerFailure = failureFrom(err, { dataUris });
    logger.error({ reason: failure.reason, err }, 'training failed');
    stderr.write(`kennel train failed (${failure.reason}): ${failure.message}\n`);
    outcome = failure;
    exitCode = 1;
  }
  if (!Value.Check(WorkerOutcome, outcome)) logger.warn({ errors: [...Value.Errors(WorkerOutcome, outcome)].slice(0, 3).map((e) => e.message) }, 'outcome does not match the contract');
  try {
    await writeTerminationMessage(outcome, env);
  } catch (err) {
    logger.error({ err }, 'cannot write the termination message');
  }
  progress.close();
  return exitCode;
}

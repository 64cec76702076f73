import { createLogger } from '../../shared/logger.js';
import { isStorageError, storageFor } from '../../shared/storage/index.js';
import { ARTIFACT_FILES, loadArtifactMetadata } from '../../ml/artifact.js';
import { selectBackend } from '../../ml/backend/select.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { packImages, splitDataset, type SplitData } from '../dataset/split-dataset.js';
import { SPLITS } from '../dataset/split.js';
import { parseInteger, parseSplit } from '../train/options.js';
import { failureFrom } from '../train/outcome.js';
import { TerminalError } from '../../shared/errors.js';
import { BACKEND_PREFERENCES, type BackendPreference } from '../../ml/backend/select.js';
import { DEFAULT_PREDICTION_BATCH, evaluateArtifact } from './evaluate-model.js';
import { formatMetricsTable } from './format-table.js';
import { serializePart } from '../predict-batch/commit-log.js';
import { resultLine } from '../predict-batch/result-line.js';

export interface RawEvaluateOptions {
  model?: string;
  data?: string;
  split?: string;
  fractions?: string;
  splitSeed?: string;
  json?: boolean;
  predictions?: string;
  batchSize?: string;
  backend?: string;
  concurrency?: string;
}

/**
 * `kennel evaluate --model <uri> --data <uri>`: reloads the artifact (sha256 checked), decodes
 * the dataset with the artifact's own preprocessing and class order, and prints accuracy,
 * macro precision/recall/F1, ROC-AUC, per-class figures, the confusion matrix and the
 * confidence histogram: as tables, or as one MetricsSummary JSON object with --json.
 * `--split test` evaluates only the test split, using the fractions and seed recorded in the
 * artifact (or --fractions/--split-seed). `--predictions <uri>` also writes one JSON line per
 * image, as `kennel predict-batch` does (path, label, confidence, probabilities). Returns the
 * exit code: 1 with a reason on stderr on failure.
 */
export async function run(raw: RawEvaluateOptions, overrides: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const stdout = overrides.stdout ?? process.stdout;
  const stderr = overrides.stderr ?? process.stderr;
  const env = overrides.env ?? process.env;
  const logger = createLogger({ name: 'evaluate', destination: stderr, level: env.KENNEL_LOG_LEVEL ?? 'warn' });
  try {
    if (!raw.model) throw new TerminalError('InvalidArguments', '--model <uri> is required');
    if (!raw.data) throw new TerminalError('InvalidArguments', '--data <uri> is required');
    const which = raw.split ?? 'all';
    if (which !== 'all' && !(SPLITS as readonly string[]).includes(which)) {
      throw new TerminalError('InvalidArguments', `--split must be all, ${SPLITS.join(', ')}; got ${JSON.stringify(which)}`);
    }
    const backend = raw.backend ?? 'auto';
    if (!(BACKEND_PREFERENCES as readonly string[]).includes(backend)) throw new TerminalError('InvalidArguments', `--backend must be one of ${BACKEND_PREFERENCES.join(', ')}`);
    await selectBackend({ preference: backend as BackendPreference, logger });
    const modelStorage = storageFor(raw.model, { env });
    const metadata = await loadArtifactMetadata(raw.model, modelStorage).catch((err: unknown) => {
      if (isStorageError(err, 'NotFound')) throw new TerminalError('InvalidArguments', `no model artifact at ${raw.model} (${ARTIFACT_FILES.metadata} not found)`, { cause: err });
      throw err;
    });
    const dataset = await loadDataset({
      uri: raw.data,
      storage: storageFor(raw.data, { env }),
      imageSize: metadata.preprocessing.size,
      resize: metadata.preprocessing.resize,
      classes: metadata.classes,
      concurrency: parseInteger('concurrency', raw.concurrency, 8, 1, 256),
      logger,
    });
    let data: SplitData;
    if (which === 'all') {
      data = packImages(dataset);
    } else {
      const hp = metadata.hyperparameters;
      const recorded = typeof hp.splitTrain === 'number' && typeof hp.splitValidation === 'number' && typeof hp.splitTest === 'number'
        ? `${hp.splitTrain},${hp.splitValidation},${hp.splitTest}`
        : undefined;
      const fractions = parseSplit(raw.fractions ?? recorded);
      const seed = parseInteger('split-seed', raw.splitSeed ?? (typeof hp.splitSeed === 'number' ? String(hp.splitSeed) : undefined), 0, 0, 2 ** 31 - 1);
      data = splitDataset(dataset, fractions, seed)[which as (typeof SPLITS)[number]];
    }
    const { metrics, probabilities } = await evaluateArtifact({ modelUri: raw.model, storage: modelStorage, data, ...(raw.batchSize ? { batchSize: parseInteger('batch-size', raw.batchSize, DEFAULT_PREDICTION_BATCH, 1, 4096) } : {}) });
    if (raw.predictions) await writePredictions(raw.predictions, data.names, probabilities, metadata.classes, env);
    if (raw.json) {
      stdout.write(`${JSON.stringify({ ...metrics, classes: metadata.classes, skippedFiles: dataset.skipped.length })}\n`);
    } else {
      stdout.write(`model ${raw.model} (${metadata.architecture}, ${metadata.preprocessing.size}px) on ${raw.data} [${which}]\n\n`);
      stdout.write(formatMetricsTable(metrics, metadata.classes));
      if (dataset.skipped.length > 0) stdout.write(`\n${dataset.skipped.length} files skipped: ${dataset.skipped.slice(0, 10).map((s) => `${s.name} (${s.reason})`).join(', ')}${dataset.skipped.length > 10 ? ', …' : ''}\n`);
    }
    return 0;
  } catch (err) {
    const failure = failureFrom(err, raw.data ? { dataUri: raw.data } : {});
    stderr.write(`kennel evaluate failed (${failure.reason}): ${failure.message}\n`);
    return 1;
  }
}


/** Per-image predictions as JSON Lines, in the format of `kennel predict-batch` (paths relative to --data). */
async function writePredictions(uri: string, names: readonly string[], probabilities: Float32Array, classes: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const lines = names.map((name, i) => resultLine(name, probabilities, i, classes));
  await storageFor(uri, { env }).write(uri, serializePart(lines), { contentType: 'application/x-ndjson' });
}

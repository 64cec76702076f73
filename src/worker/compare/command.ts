import { TerminalError, errorMessage } from '../../shared/errors.js';
import { isStorageError, storageFor } from '../../shared/storage/index.js';
import { compareModels } from './comparison.js';
import { renderComparisonHtml } from './comparison-html.js';
import { formatComparisonText } from './comparison-text.js';
import { modelVersionModels, readArtifactModels, readKubeObjects, type StorageOf } from './read-models.js';

export interface RawCompareOptions {
  output?: string;
  html?: string;
  modelVersions?: string[];
}

export interface CompareOverrides {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
  env?: NodeJS.ProcessEnv;
}

const OUTPUTS = ['text', 'json'] as const;

/**
 * `kennel compare <model-uri> <model-uri> …`: reads each artifact's metadata.json and
 * metrics.json and prints their test metrics side by side, with deltas against the first, their
 * hyperparameters and lineage (`--output json` for one JSON object); `--html <uri>` also writes
 * a comparison page with overlaid training curves and the confusion matrices side by side.
 * With `--model-versions <file>` the models are ModelVersions from `kubectl get -o json` output
 * (the arguments then name which, in order). Returns the exit code: 1 with a reason on stderr.
 */
export async function run(args: readonly string[], raw: RawCompareOptions, overrides: CompareOverrides = {}): Promise<number> {
  const stdout = overrides.stdout ?? process.stdout;
  const stderr = overrides.stderr ?? process.stderr;
  const env = overrides.env ?? process.env;
  const storageOf: StorageOf = (uri) => storageFor(uri, { env });
  try {
    const output = raw.output ?? 'text';
    if (!(OUTPUTS as readonly string[]).includes(output)) throw new TerminalError('InvalidArguments', `--output must be text or json; got ${JSON.stringify(output)}`);
    const models = raw.modelVersions && raw.modelVersions.length > 0
      ? await modelVersionModels(await readKubeObjects(raw.modelVersions, overrides.stdin ?? process.stdin), args, storageOf)
      : await readArtifactModels(args, storageOf);
    if (models.length < 2) {
      throw new TerminalError('InvalidArguments', raw.modelVersions ? `compare needs at least two ModelVersions, found ${models.length}` : 'compare needs at least two model URIs (file://, gs:// or paths)');
    }
    const comparison = compareModels(models);
    if (raw.html) {
      await storageOf(raw.html).write(raw.html, renderComparisonHtml(comparison), { contentType: 'text/html; charset=utf-8' });
    }
    stdout.write(output === 'json' ? `${JSON.stringify(comparison)}\n` : formatComparisonText(comparison));
    if (raw.html && output === 'text') stdout.write(`\ncomparison page written to ${raw.html}\n`);
    return 0;
  } catch (err) {
    const reason = err instanceof TerminalError ? err.reason : isStorageError(err) ? err.reason : 'Error';
    stderr.write(`kennel compare failed (${reason}): ${errorMessage(err)}\n`);
    return 1;
  }
}

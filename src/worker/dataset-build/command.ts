import { TerminalError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { storageFor, type Storage } from '../../shared/storage/index.js';
import { parseClasses } from '../train/options.js';
import { failureFrom } from '../train/outcome.js';
import { buildDataset } from './build-dataset.js';

export interface RawBuildOptions {
  log?: string[];
  out?: string;
  classes?: string;
  model?: string;
  since?: string;
  wrongOnly?: boolean;
}

/**
 * `kennel dataset build --log <uri> [--log <uri>...] --out <uri>`: the composition root.
 * Prints the manifest as JSON on stdout; returns the exit code (1 with the reason on stderr).
 */
export async function run(raw: RawBuildOptions, overrides: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const stdout = overrides.stdout ?? process.stdout;
  const stderr = overrides.stderr ?? process.stderr;
  const env = overrides.env ?? process.env;
  const logger = createLogger({ name: 'dataset-build', destination: stderr, level: env.KENNEL_LOG_LEVEL ?? 'info' });
  try {
    const logs = raw.log ?? [];
    if (logs.length === 0) throw new TerminalError('InvalidArguments', '--log <uri> is required (a kennel serve --prediction-log prefix); repeat it to join several logs');
    if (!raw.out) throw new TerminalError('InvalidArguments', '--out <uri> is required (an empty prefix for the class-per-folder dataset)');
    const since = raw.since === undefined ? undefined : new Date(raw.since);
    if (since && Number.isNaN(since.getTime())) throw new TerminalError('InvalidArguments', `--since must be a date or time (e.g. 2026-11-01 or 2026-11-01T12:00:00Z), got ${JSON.stringify(raw.since)}`);
    const classes = parseClasses(raw.classes);
    // One client per scheme and bucket is plenty; storageFor is cheap but not free.
    const storages = new Map<string, Storage>();
    const storageOf = (uri: string): Storage => {
      const key = uri.startsWith('gs://') ? uri.split('/').slice(0, 3).join('/') : 'file';
      let s = storages.get(key);
      if (!s) storages.set(key, (s = storageFor(uri, { env })));
      return s;
    };
    const manifest = await buildDataset({
      logs,
      out: raw.out,
      storageOf,
      logger,
      ...(classes ? { classes } : {}),
      ...(raw.model ? { model: raw.model } : {}),
      ...(since ? { since } : {}),
      ...(raw.wrongOnly ? { wrongOnly: true } : {}),
    });
    stdout.write(`${JSON.stringify(manifest)}\n`);
    return 0;
  } catch (err) {
    const failure = failureFrom(err);
    logger.error({ reason: failure.reason, err }, 'dataset build failed');
    stderr.write(`kennel dataset build failed (${failure.reason}): ${failure.message}\n`);
    return 1;
  }
}

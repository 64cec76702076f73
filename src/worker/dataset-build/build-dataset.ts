import { createHash } from 'node:crypto';
import { TerminalError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import { sniffImageFormat } from '../../ml/image.js';
import { datasetDigest } from '../dataset/load-dataset.js';
import { collectFeedbackExamples, type FeedbackExample, type FeedbackStats } from '../dataset/feedback-examples.js';
import { mapLimit } from '../dataset/map-limit.js';

export interface BuildOptions {
  /** Prediction logs to read (`kennel serve --prediction-log` prefixes). */
  readonly logs: readonly string[];
  /** Where the class-per-folder dataset is written. */
  readonly out: string;
  readonly storageOf: (uri: string) => Storage;
  /** Keep only these classes (feedback with another label is counted and left out). */
  readonly classes?: readonly string[];
  readonly model?: string;
  readonly since?: Date;
  /** Only corrections (the model was wrong); default: every piece of feedback. */
  readonly wrongOnly?: boolean;
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

/** manifest.json of a built dataset (beside the class folders, so loaders ignore it). */
export interface BuildManifest {
  readonly builtAt: string;
  readonly logs: readonly { readonly uri: string; readonly stats: FeedbackStats }[];
  readonly filters: { readonly model?: string; readonly since?: string; readonly wrongOnly: boolean; readonly classes?: readonly string[] };
  readonly examples: number;
  readonly perClass: Readonly<Record<string, number>>;
  /** Of them, how many the served model had got wrong. */
  readonly corrections: number;
  /** Feedback whose label is outside `classes`. */
  readonly unknownLabel: number;
  /** The same image in two logs: the later feedback kept. */
  readonly duplicates: number;
  /** Stored images whose bytes no longer hash to their name (left out). */
  readonly corrupt: number;
  /**
   * The digest `kennel train` reports for this folder as a source (sha256 over sorted
   * `class\tsha256` lines), provided every image decodes.
   */
  readonly digest: string;
}

const EXTENSIONS = { jpeg: 'jpg', png: 'png', webp: 'webp' } as const;

/**
 * `kennel dataset build`: joins the feedback of one or more prediction logs with their stored
 * images into a class-per-folder dataset, `<out>/<class>/<sha256>.<ext>`, plus
 * `<out>/manifest.json` saying what was read, what was left out and why, and the digest. `out`
 * must be empty (TerminalError InvalidArguments otherwise): a label that changed since an
 * earlier build must not leave the image in its old folder too. The same logs give the same
 * files, named by content hash.
 */
export async function buildDataset(options: BuildOptions): Promise<BuildManifest> {
  const { logger } = options;
  const outStorage = options.storageOf(options.out);
  if ((await outStorage.list(options.out)).length > 0) {
    throw new TerminalError('InvalidArguments', `--out ${options.out} is not empty: build into a new prefix (e.g. one per date), so that no image keeps an old label`);
  }
  const now = options.now ?? (() => new Date());
  const logs: { uri: string; stats: FeedbackStats }[] = [];
  const latest = new Map<string, FeedbackExample>();
  let duplicates = 0;
  for (const uri of options.logs) {
    const { examples, stats } = await collectFeedbackExamples(uri, options.storageOf(uri), {
      ...(options.model ? { model: options.model } : {}),
      ...(options.since ? { since: options.since } : {}),
      ...(options.wrongOnly ? { wrongOnly: true } : {}),
    });
    logs.push({ uri, stats });
    logger?.info({ log: uri, examples: examples.length, ...stats }, 'feedback read');
    for (const e of examples) {
      const seen = latest.get(e.sha256);
      if (seen) duplicates++;
      if (!seen || e.time > seen.time) latest.set(e.sha256, e);
    }
  }
  const allowed = options.classes ? new Set(options.classes) : undefined;
  const chosen = [...latest.values()].filter((e) => !allowed || allowed.has(e.label));
  const unknownLabel = latest.size - chosen.length;
  let corrupt = 0;
  const written = await mapLimit(chosen, options.concurrency ?? 8, async (e) => {
    const bytes = await options.storageOf(e.imageUri).read(e.imageUri);
    if (createHash('sha256').update(bytes).digest('hex') !== e.sha256) {
      corrupt++;
      logger?.warn({ image: e.imageUri }, 'stored image does not match its hash; left out');
      return undefined;
    }
    const format = sniffImageFormat(bytes);
    const name = `${e.label}/${e.sha256}.${format ? EXTENSIONS[format] : 'img'}`;
    await outStorage.write(joinUri(options.out, name), bytes, format ? { contentType: `image/${format}` } : {});
    return e;
  });
  const kept = written.filter((e): e is FeedbackExample => e !== undefined);
  const classes = [...new Set(kept.map((e) => e.label))].sort();
  const perClass = Object.fromEntries(classes.map((c) => [c, kept.filter((e) => e.label === c).length]));
  const manifest: BuildManifest = {
    builtAt: now().toISOString(),
    logs,
    filters: {
      ...(options.model ? { model: options.model } : {}),
      ...(options.since ? { since: options.since.toISOString() } : {}),
      wrongOnly: options.wrongOnly ?? false,
      ...(options.classes ? { classes: options.classes } : {}),
    },
    examples: kept.length,
    perClass,
    corrections: kept.filter((e) => e.predicted !== e.label).length,
    unknownLabel,
    duplicates,
    corrupt,
    digest: datasetDigest(classes, kept.map((e) => ({ classIndex: classes.indexOf(e.label), sha256: e.sha256 }))),
  };
  await outStorage.write(joinUri(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  return manifest;
}

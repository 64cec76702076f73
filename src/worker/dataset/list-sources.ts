import type { DatasetSourceType } from '../../shared/api/worker-report.js';
import { TerminalError } from '../../shared/errors.js';
import type { Storage, StorageEntry } from '../../shared/storage/index.js';
import { collectFeedbackExamples, type FeedbackStats } from './feedback-examples.js';
import type { DatasetFile } from './list-dataset.js';

export type { DatasetSourceType };

/**
 * Where training images come from: a class-per-folder prefix, or a prediction log whose
 * feedback labels its stored images (the corrections the served model received).
 */
export interface DatasetSource {
  readonly uri: string;
  readonly type: DatasetSourceType;
}

export interface SourcesListing {
  readonly classes: readonly string[];
  /** Every file of every source, ordered by source, then class, then name. */
  readonly files: readonly (DatasetFile & { readonly source: number })[];
  /** Objects directly under a ClassFolders prefix, outside any class folder. */
  readonly outside: readonly StorageEntry[];
  /** Per PredictionLog source (by index): how its feedback became examples. */
  readonly feedback: ReadonlyMap<number, FeedbackStats>;
  /** Examples of a PredictionLog source labelled with a class outside `classes`, by source index. */
  readonly unknownLabels: ReadonlyMap<number, number>;
}

interface Candidate {
  readonly name: string;
  readonly uri: string;
  readonly size: number;
  readonly folder: string;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Lists several sources as one dataset. Classes are exactly `classes` when given, else every
 * class folder (and every feedback label) found, sorted. A ClassFolders source with nothing
 * under it is DatasetNotFound; a prediction log without usable feedback yet adds nothing (a
 * retraining run should not fail because nobody has corrected anything). Throws
 * 'InvalidDataset' when a requested class is found in no source or fewer than two classes have
 * files, and for a class listed twice.
 */
export async function listSources(sources: readonly DatasetSource[], storageOf: (uri: string) => Storage, classes?: readonly string[]): Promise<SourcesListing> {
  if (sources.length === 0) throw new TerminalError('InvalidArguments', 'no dataset source given');
  const outside: StorageEntry[] = [];
  const feedback = new Map<number, FeedbackStats>();
  const perSource: Candidate[][] = [];
  for (const [i, source] of sources.entries()) {
    const storage = storageOf(source.uri);
    if (source.type === 'PredictionLog') {
      const { examples, stats } = await collectFeedbackExamples(source.uri, storage);
      feedback.set(i, stats);
      perSource.push(examples.map((e) => ({ name: `${e.label}/${e.sha256}`, uri: e.imageUri, size: 0, folder: e.label })));
      continue;
    }
    const entries = (await storage.list(source.uri)).filter((e) => !e.name.split('/').some((seg) => seg.startsWith('.')));
    if (entries.length === 0) {
      throw new TerminalError('DatasetNotFound', `no files under ${source.uri}: expected one folder per class (e.g. ${source.uri}/cat/, ${source.uri}/dog/)`);
    }
    outside.push(...entries.filter((e) => !e.name.includes('/')));
    perSource.push(entries.filter((e) => e.name.includes('/')).map((e) => ({ ...e, folder: e.name.slice(0, e.name.indexOf('/')) })));
  }
  const found = [...new Set(perSource.flat().map((c) => c.folder))].sort();
  const where = sources.map((s) => s.uri).join(', ');
  const chosen = chooseClasses(found, classes, where);
  const index = new Map(chosen.map((c, i) => [c, i]));
  const unknownLabels = new Map<number, number>();
  const files: (DatasetFile & { source: number })[] = [];
  perSource.forEach((candidates, source) => {
    const mine: (DatasetFile & { source: number })[] = [];
    for (const c of candidates) {
      const classIndex = index.get(c.folder);
      if (classIndex !== undefined) mine.push({ name: c.name, uri: c.uri, size: c.size, classIndex, source });
      else if (sources[source]?.type === 'PredictionLog') unknownLabels.set(source, (unknownLabels.get(source) ?? 0) + 1);
    }
    mine.sort((a, b) => a.classIndex - b.classIndex || byName(a, b));
    files.push(...mine);
  });
  return { classes: chosen, files, outside, feedback, unknownLabels };
}

function chooseClasses(found: readonly string[], classes: readonly string[] | undefined, where: string): string[] {
  let chosen: string[];
  if (classes && classes.length > 0) {
    const dupes = classes.filter((c, i) => classes.indexOf(c) !== i);
    if (dupes.length > 0) throw new TerminalError('InvalidDataset', `classes listed twice: ${dupes.join(', ')}`);
    const missing = classes.filter((c) => !found.includes(c));
    if (missing.length > 0) {
      throw new TerminalError('InvalidDataset', `no folder for class ${missing.map((c) => JSON.stringify(c)).join(', ')} under ${where} (folders found: ${found.join(', ') || 'none'})`);
    }
    chosen = [...classes];
  } else {
    chosen = [...found];
  }
  if (chosen.length < 2) {
    throw new TerminalError(
      'InvalidDataset',
      `a classifier needs at least two classes, found ${chosen.length} under ${where}${chosen.length ? ` (${chosen.join(', ')})` : ''}: put each class's images in its own folder`,
    );
  }
  return chosen;
}

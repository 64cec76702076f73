import { TerminalError } from '../../shared/errors.js';
import type { Storage, StorageEntry } from '../../shared/storage/index.js';

export interface DatasetFile {
  /** Path relative to the dataset prefix, e.g. `cat/001.jpg`. */
  readonly name: string;
  readonly uri: string;
  readonly size: number;
  readonly classIndex: number;
}

export interface DatasetListing {
  readonly classes: readonly string[];
  readonly files: readonly DatasetFile[];
  /** Objects directly under the prefix, outside any class folder. */
  readonly outside: readonly StorageEntry[];
}

/**
 * Lists a class-per-folder dataset: the first path segment under `uri` is the class. Classes
 * are the sorted folder names, or exactly `classes` when given (other folders are ignored).
 * Hidden files (a segment starting with `.`) are ignored. Throws TerminalError
 * 'DatasetNotFound' when nothing is under `uri`, 'InvalidDataset' when a requested class has no
 * folder or fewer than two classes have files.
 */
export async function listDataset(uri: string, storage: Storage, classes?: readonly string[]): Promise<DatasetListing> {
  const entries = (await storage.list(uri)).filter((e) => !e.name.split('/').some((seg) => seg.startsWith('.')));
  if (entries.length === 0) throw new TerminalError('DatasetNotFound', `no files under ${uri}: expected one folder per class (e.g. ${uri}/cat/, ${uri}/dog/)`);
  const outside = entries.filter((e) => !e.name.includes('/'));
  const inFolders = entries.filter((e) => e.name.includes('/'));
  const folderOf = (e: StorageEntry): string => e.name.slice(0, e.name.indexOf('/'));
  const folders = [...new Set(inFolders.map(folderOf))].sort();
  let chosen: string[];
  if (classes && classes.length > 0) {
    const dupes = classes.filter((c, i) => classes.indexOf(c) !== i);
    if (dupes.length > 0) throw new TerminalError('InvalidDataset', `classes listed twice: ${dupes.join(', ')}`);
    const missing = classes.filter((c) => !folders.includes(c));
    if (missing.length > 0) {
      throw new TerminalError('InvalidDataset', `no folder for class ${missing.map((c) => JSON.stringify(c)).join(', ')} under ${uri} (folders found: ${folders.join(', ') || 'none'})`);
    }
    chosen = [...classes];
  } else {
    chosen = folders;
  }
  if (chosen.length < 2) {
    throw new TerminalError(
      'InvalidDataset',
      `a classifier needs at least two classes, found ${chosen.length} under ${uri}${chosen.length ? ` (${chosen.join(', ')})` : ''}: put each class's images in its own folder`,
    );
  }
  const index = new Map(chosen.map((c, i) => [c, i]));
  const files: DatasetFile[] = [];
  for (const e of inFolders) {
    const classIndex = index.get(folderOf(e));
    if (classIndex !== undefined) files.push({ name: e.name, uri: e.uri, size: e.size, classIndex });
  }
  files.sort((a, b) => a.classIndex - b.classIndex || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { classes: chosen, files, outside };
}

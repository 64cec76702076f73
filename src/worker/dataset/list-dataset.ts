import type { Storage, StorageEntry } from '../../shared/storage/index.js';
import { listSources } from './list-sources.js';

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
 * folder or fewer than two classes have files. One source of {@link listSources}.
 */
export async function listDataset(uri: string, storage: Storage, classes?: readonly string[]): Promise<DatasetListing> {
  const listing = await listSources([{ uri, type: 'ClassFolders' }], () => storage, classes);
  return { classes: listing.classes, files: listing.files.map(({ source: _source, ...f }) => f), outside: listing.outside };
}

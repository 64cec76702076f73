import { createReadStream } from 'node:fs';
import { link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { StorageError, type Storage, type StorageEntry, type StorageStat, type WriteOptions } from './storage.js';
import { joinUri, parseStorageUri } from './uri.js';

function localPath(uri: string): string {
  const loc = parseStorageUri(uri);
  if (loc.scheme !== 'file') throw new StorageError('InvalidUri', uri, `not a local path: ${uri}`);
  return loc.path;
}

function mapFsError(err: unknown, uri: string): StorageError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return new StorageError('NotFound', uri, `not found: ${uri}`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new StorageError('AccessDenied', uri, `permission denied: ${uri}`, { cause: err });
  return new StorageError('Unavailable', uri, `cannot access ${uri}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * Storage over the local file system, for `file://` URIs and plain paths. Writes go to a
 * temporary file renamed into place, so a reader never sees half an object.
 */
export function createFileStorage(): Storage {
  return {
    async list(prefix: string): Promise<StorageEntry[]> {
      const root = localPath(prefix);
      let entries;
      try {
        entries = await readdir(root, { recursive: true, withFileTypes: true });
      } catch (err) {
        const e = mapFsError(err, prefix);
        if (e.reason === 'NotFound') return [];
        throw e;
      }
      // Symbolic links to files count as files (a dataset may be a folder of links to photos).
      const candidates = entries.filter((e) => e.isFile() || e.isSymbolicLink());
      const out = await Promise.all(
        candidates.map(async (e) => {
          const abs = path.join(e.parentPath, e.name);
          const name = path.relative(root, abs).split(path.sep).join('/');
          const s = await stat(abs).catch(() => undefined);
          return s?.isFile() ? { uri: joinUri(prefix, name), name, size: s.size } : undefined;
        }),
      );
      return out.filter((e): e is StorageEntry => e !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async read(uri: string): Promise<Buffer> {
      try {
        return await readFile(localPath(uri));
      } catch (err) {
        throw err instanceof StorageError ? err : mapFsError(err, uri);
      }
    },

    readStream(uri: string): Readable {
      const stream = createReadStream(localPath(uri));
      // Re-emit fs errors as StorageErrors so stream consumers see the same reasons as read().
      const original = stream.emit.bind(stream);
      stream.emit = ((event: string | symbol, ...args: unknown[]) =>
        event === 'error' ? original('error', mapFsError(args[0], uri)) : original(event, ...args)) as typeof stream.emit;
      return stream;
    },

    async write(uri: string, data: Buffer | string, options?: WriteOptions): Promise<void> {
      const target = localPath(uri);
      const tmp = `${target}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(tmp, data);
        // link() fails with EEXIST when the target exists: an atomic create-only.
        if (options?.ifAbsent) await link(tmp, target).finally(() => rm(tmp, { force: true }));
        else await rename(tmp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException | undefined)?.code === 'EEXIST') throw new StorageError('AlreadyExists', uri, `already exists: ${uri}`, { cause: err });
        throw mapFsError(err, uri);
      }
    },

    async exists(uri: string): Promise<boolean> {
      try {
        return (await stat(localPath(uri))).isFile();
      } catch {
        return false;
      }
    },

    async stat(uri: string): Promise<StorageStat> {
      try {
        const s = await stat(localPath(uri));
        if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
        return { size: s.size, updated: s.mtime };
      } catch (err) {
        throw mapFsError(err, uri);
      }
    },
  };
}

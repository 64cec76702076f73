import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { GCS_BUCKET_PATTERN, GS_URI_EXPECTATION } from '../api/common.js';

/** A parsed storage location: a local path, or a GCS bucket and object key (or key prefix). */
export type StorageLocation =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 'gs'; readonly bucket: string; readonly key: string };

/** Thrown for a URI Kennel cannot address (unknown scheme, gs:// without a bucket). */
export class InvalidStorageUriError extends Error {
  readonly uri: string;
  constructor(uri: string, why: string) {
    super(`invalid storage URI ${JSON.stringify(uri)}: ${why}`);
    this.name = 'InvalidStorageUriError';
    this.uri = uri;
  }
}

const BUCKET_NAME = new RegExp(`^${GCS_BUCKET_PATTERN}$`);

/**
 * Parses `file:///abs/path`, a plain path (relative paths resolve against the working directory)
 * or `gs://bucket/key`. Any other scheme is an error rather than a guess.
 */
export function parseStorageUri(uri: string): StorageLocation {
  if (uri.length === 0) throw new InvalidStorageUriError(uri, 'empty');
  if (uri.startsWith('gs://')) {
    const rest = uri.slice('gs://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (!BUCKET_NAME.test(bucket)) throw new InvalidStorageUriError(uri, GS_URI_EXPECTATION);
    return { scheme: 'gs', bucket, key };
  }
  if (uri.startsWith('file:')) {
    try {
      return { scheme: 'file', path: fileURLToPath(uri) };
    } catch (err) {
      throw new InvalidStorageUriError(uri, err instanceof Error ? err.message : String(err));
    }
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(uri)) {
    throw new InvalidStorageUriError(uri, 'unsupported scheme (use file://, gs:// or a plain path)');
  }
  return { scheme: 'file', path: path.resolve(uri) };
}

/**
 * Appends a relative, slash-separated name to a storage prefix, keeping the prefix's form
 * (`gs://b/p` + `m/x` → `gs://b/p/m/x`; `/tmp/out` + `a.json` → `/tmp/out/a.json`).
 */
export function joinUri(prefix: string, name: string): string {
  const trimmed = name.replace(/^\/+/, '');
  if (trimmed.length === 0) return prefix;
  return prefix.endsWith('/') ? `${prefix}${trimmed}` : `${prefix}/${trimmed}`;
}

import { createFileStorage } from './file-storage.js';
import { gcsConfigFromEnv, type GcsConfig } from './gcs-config.js';
import { createGcsStorage, type GcsRetryPolicy } from './gcs-storage.js';
import { StorageError, type Storage } from './storage.js';
import { InvalidStorageUriError, parseStorageUri } from './uri.js';

export * from './storage.js';
export { joinUri, parseStorageUri, InvalidStorageUriError, type StorageLocation } from './uri.js';
export { gcsConfigFromEnv, GcsAuthModes, type GcsAuthMode, type GcsConfig } from './gcs-config.js';
export { createFileStorage } from './file-storage.js';
export { createGcsStorage, DEFAULT_GCS_RETRY, type GcsRetryPolicy } from './gcs-storage.js';

export interface StorageForOptions {
  /** Environment the GCS credentials mode is read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Explicit GCS config; overrides env. */
  readonly gcs?: GcsConfig;
  readonly gcsRetry?: Partial<GcsRetryPolicy>;
}

/**
 * The storage implementation that serves `uri`: local files for `file://` and plain paths,
 * GCS for `gs://`. Throws StorageError('InvalidUri') for anything else, and
 * StorageError('Misconfigured') when the GCS credentials mode is inconsistent.
 */
export function storageFor(uri: string, options: StorageForOptions = {}): Storage {
  let scheme;
  try {
    scheme = parseStorageUri(uri).scheme;
  } catch (err) {
    if (err instanceof InvalidStorageUriError) throw new StorageError('InvalidUri', uri, err.message, { cause: err });
    throw err;
  }
  if (scheme === 'file') return createFileStorage();
  const config = options.gcs ?? gcsConfigFromEnv(options.env ?? process.env);
  return createGcsStorage({ config, ...(options.gcsRetry ? { retry: options.gcsRetry } : {}) });
}

import { PassThrough, type Readable } from 'node:stream';
import { IdempotencyStrategy, Storage as GcsClient, type StorageOptions } from '@google-cloud/storage';
import type { GcsConfig } from './gcs-config.js';
import { StorageError, type Storage, type StorageEntry, type StorageStat, type WriteOptions } from './storage.js';
import { joinUri, parseStorageUri } from './uri.js';

export interface GcsRetryPolicy {
  /** Retries after the first attempt on 408/429/5xx and connection errors. */
  readonly maxRetries: number;
  /** Exponential backoff base, in the library's terms (delay ≈ multiplier^n seconds, jittered). */
  readonly retryDelayMultiplier: number;
  /** Cap on one delay, seconds. */
  readonly maxRetryDelay: number;
  /** Give up after this many seconds overall. */
  readonly totalTimeout: number;
}

export const DEFAULT_GCS_RETRY: GcsRetryPolicy = { maxRetries: 5, retryDelayMultiplier: 2, maxRetryDelay: 32, totalTimeout: 300 };

export interface GcsStorageOptions {
  readonly config: GcsConfig;
  readonly retry?: Partial<GcsRetryPolicy>;
}

function clientOptions(config: GcsConfig, retry: GcsRetryPolicy): StorageOptions {
  // Writes here replace a whole object with the same bytes on retry, so retrying them is safe.
  const retryOptions = { autoRetry: true, ...retry, idempotencyStrategy: IdempotencyStrategy.RetryAlways };
  switch (config.mode) {
    case 'emulator':
      // A custom endpoint without useAuthWithCustomEndpoint sends no credentials: the emulator.
      return { apiEndpoint: config.endpoint, projectId: config.projectId, retryOptions, useAuthWithCustomEndpoint: false };
    case 'keyfile':
      return { keyFilename: config.keyFilename, retryOptions, ...(config.endpoint ? { apiEndpoint: config.endpoint, useAuthWithCustomEndpoint: true } : {}) };
    case 'adc':
      return { retryOptions, ...(config.endpoint ? { apiEndpoint: config.endpoint, useAuthWithCustomEndpoint: true } : {}) };
  }
}

function gsLocation(uri: string): { bucket: string; key: string } {
  const loc = parseStorageUri(uri);
  if (loc.scheme !== 'gs') throw new StorageError('InvalidUri', uri, `not a gs:// URI: ${uri}`);
  return loc;
}

/** Maps a client error (ApiError with an HTTP code, auth error, socket error) to a StorageError. */
export function mapGcsError(err: unknown, uri: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const status = typeof code === 'number' ? code : typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : undefined;
  const detail = err instanceof Error ? err.message : String(err);
  if (status === 404) return new StorageError('NotFound', uri, `not found: ${uri}`, { cause: err });
  // Only create-only writes send a precondition (ifGenerationMatch: 0).
  if (status === 412) return new StorageError('AlreadyExists', uri, `already exists: ${uri}`, { cause: err });
  if (status === 401 || status === 403) {
    return new StorageError('AccessDenied', uri, `access denied to ${uri} (HTTP ${status}): check the service account's roles on the bucket: ${detail}`, { cause: err });
  }
  if (/Could not load the default credentials|Could not refresh access token|invalid_grant|ENOENT.*json/i.test(detail)) {
    return new StorageError('AccessDenied', uri, `no usable GCS credentials for ${uri}: ${detail} (set KENNEL_GCS_AUTH and GOOGLE_APPLICATION_CREDENTIALS or KENNEL_GCS_ENDPOINT)`, { cause: err });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new StorageError('AccessDenied', uri, `GCS rejected the request for ${uri} (HTTP ${status}): ${detail}`, { cause: err });
  }
  return new StorageError('Unavailable', uri, `GCS unavailable for ${uri} after retries: ${detail}`, { cause: err });
}

/**
 * Storage over Google Cloud Storage. Credentials come from an explicit {@link GcsConfig};
 * retries with exponential backoff on 408/429/5xx and connection errors are the client
 * library's own (configured here), and what is left after them is mapped to a StorageError.
 */
export function createGcsStorage(options: GcsStorageOptions): Storage {
  const retry = { ...DEFAULT_GCS_RETRY, ...options.retry };
  let client: GcsClient | undefined;
  const gcs = (): GcsClient => (client ??= new GcsClient(clientOptions(options.config, retry)));
  const file = (uri: string) => {
    const { bucket, key } = gsLocation(uri);
    if (key.length === 0 || key.endsWith('/')) throw new StorageError('InvalidUri', uri, `expected an object, got a prefix: ${uri}`);
    return gcs().bucket(bucket).file(key);
  };

  return {
    async list(prefix: string): Promise<StorageEntry[]> {
      const { bucket, key } = gsLocation(prefix);
      const dir = key.length === 0 || key.endsWith('/') ? key : `${key}/`;
      try {
        const [files] = await gcs().bucket(bucket).getFiles({ prefix: dir, autoPaginate: true });
        return files
          .filter((f) => !f.name.endsWith('/'))
          .map((f) => {
            const name = f.name.slice(dir.length);
            return { uri: joinUri(prefix, name), name, size: Number(f.metadata.size ?? 0) };
          })
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch (err) {
        const e = mapGcsError(err, prefix);
        if (e.reason === 'NotFound') throw new StorageError('NotFound', prefix, `bucket not found: gs://${bucket}`, { cause: err });
        throw e;
      }
    },

    async read(uri: string): Promise<Buffer> {
      try {
        const [data] = await file(uri).download();
        return data;
      } catch (err) {
        throw mapGcsError(err, uri);
      }
    },

    readStream(uri: string): Readable {
      const source = file(uri).createReadStream();
      const out = new PassThrough();
      // pipe() keeps backpressure; errors are re-raised on the returned stream as StorageErrors.
      source.on('error', (err: unknown) => out.destroy(mapGcsError(err, uri)));
      return source.pipe(out);
    },

    async write(uri: string, data: Buffer | string, opts?: WriteOptions): Promise<void> {
      try {
        // Single-request upload: artifacts are a few MB, and resumable sessions add round trips.
        await file(uri).save(typeof data === 'string' ? Buffer.from(data) : data, {
          resumable: false,
          ...(opts?.contentType ? { contentType: opts.contentType } : {}),
          ...(opts?.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
        });
      } catch (err) {
        throw mapGcsError(err, uri);
      }
    },

    async exists(uri: string): Promise<boolean> {
      try {
        const [yes] = await file(uri).exists();
        return yes;
      } catch (err) {
        throw mapGcsError(err, uri);
      }
    },

    async stat(uri: string): Promise<StorageStat> {
      try {
        const [meta] = await file(uri).getMetadata();
        return {
          size: Number(meta.size ?? 0),
          ...(meta.contentType ? { contentType: meta.contentType } : {}),
          ...(meta.updated ? { updated: new Date(meta.updated) } : {}),
        };
      } catch (err) {
        throw mapGcsError(err, uri);
      }
    },
  };
}

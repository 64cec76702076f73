import type { Readable } from 'node:stream';
import { IdempotencyStrategy, RETRYABLE_ERR_FN_DEFAULT, Storage as GcsClient, type File, type StorageOptions } from '@google-cloud/storage';
import { retryDelayMs, retryWithBackoff } from './backoff.js';
import type { GcsConfig } from './gcs-config.js';
import { guardBody, type GuardedBody } from './guard-body.js';
import { StorageError, type Storage, type StorageEntry, type StorageStat, type WriteOptions } from './storage.js';
import { joinUri, parseStorageUri } from './uri.js';

export interface GcsRetryPolicy {
  /** Retries after the first attempt on 408/429/5xx and connection errors. */
  readonly maxRetries: number;
  /** Exponential backoff base, in the library's terms (delay ≈ multiplier^n seconds, jittered). */
  readonly retryDelayMultiplier: number;
  /** Cap on one delay, seconds. */
  readonly maxRetryDelay: number;
  /** Give up after this many seconds overall: every operation, retries included, ends by then. */
  readonly totalTimeout: number;
  /**
   * One HTTP request that has not answered after this many ms is abandoned and retried (a stall);
   * so is a download whose body has sent nothing for this long while it was being read.
   */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_GCS_RETRY: GcsRetryPolicy = { maxRetries: 5, retryDelayMultiplier: 2, maxRetryDelay: 32, totalTimeout: 300, requestTimeoutMs: 60_000 };

/** The client's own retry rule, plus requests that timed out (the client does not retry those). */
export function isRetryableGcsError(err: unknown): boolean {
  if (RETRYABLE_ERR_FN_DEFAULT(err as Parameters<typeof RETRYABLE_ERR_FN_DEFAULT>[0])) return true;
  const e = err as { type?: unknown; message?: unknown } | undefined;
  return e?.type === 'request-timeout' || (typeof e?.message === 'string' && /network timeout at|socket hang up|ECONNRESET/i.test(e.message));
}

export interface GcsStorageOptions {
  readonly config: GcsConfig;
  readonly retry?: Partial<GcsRetryPolicy>;
}

function clientOptions(config: GcsConfig, retry: GcsRetryPolicy): StorageOptions {
  // Writes here replace a whole object with the same bytes on retry, so retrying them is safe.
  const { requestTimeoutMs, ...policy } = retry;
  const retryOptions = { autoRetry: true, ...policy, idempotencyStrategy: IdempotencyStrategy.RetryAlways, retryableErrorFn: isRetryableGcsError };
  const timeout = requestTimeoutMs;
  switch (config.mode) {
    case 'emulator':
      // A custom endpoint without useAuthWithCustomEndpoint sends no credentials: the emulator.
      return { apiEndpoint: config.endpoint, projectId: config.projectId, retryOptions, timeout, useAuthWithCustomEndpoint: false };
    case 'keyfile':
      return { keyFilename: config.keyFilename, retryOptions, timeout, ...(config.endpoint ? { apiEndpoint: config.endpoint, useAuthWithCustomEndpoint: true } : {}) };
    case 'adc':
      return { retryOptions, timeout, ...(config.endpoint ? { apiEndpoint: config.endpoint, useAuthWithCustomEndpoint: true } : {}) };
  }
}

function gsLocation(uri: string): { bucket: string; key: string } {
  const loc = parseStorageUri(uri);
  if (loc.scheme !== 'gs') throw new StorageError('InvalidUri', uri, `not a gs:// URI: ${uri}`);
  return loc;
}

/**
 * The client's checksum error (or a StorageError made of it): the bytes received do not match the
 * CRC32C/MD5 GCS holds for the object.
 */
function isChecksumMismatch(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return e?.code === 'CONTENT_DOWNLOAD_MISMATCH' || (err instanceof StorageError && e?.cause?.code === 'CONTENT_DOWNLOAD_MISMATCH');
}

/**
 * Retries of a download whose bytes failed their checksum, within maxRetries. Corruption in
 * transit is not a sign of an overloaded server: it is retried at once, and only a few times, so
 * that an object that always arrives damaged fails in seconds, not after the whole backoff.
 */
export const CHECKSUM_RETRIES = 2;

/**
 * Whether a failed download is worth another attempt: what the client retries itself (408/429/5xx,
 * resets, request timeouts), a body that stalled or ended short ({@link guardBody}'s errors, which
 * are StorageError('Unavailable')), and a body that failed its checksum (corrupted in transit).
 */
export function isRetryableDownloadError(err: unknown): boolean {
  if (err instanceof StorageError) return err.reason === 'Unavailable';
  return isRetryableGcsError(err) || isChecksumMismatch(err);
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
  if (isChecksumMismatch(err)) {
    return new StorageError('Unavailable', uri, `the bytes GCS sent for ${uri} did not match the object's checksum (CRC32C/MD5 in x-goog-hash): corrupted in transit`, { cause: err });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new StorageError('AccessDenied', uri, `GCS rejected the request for ${uri} (HTTP ${status}): ${detail}`, { cause: err });
  }
  return new StorageError('Unavailable', uri, `GCS unavailable for ${uri} after retries: ${detail}`, { cause: err });
}

/**
 * Settles like `op`, or rejects with StorageError('Unavailable') once `seconds` have passed, and
 * then aborts the signal `op` was given (a download stops retrying and lets its stream go): a
 * server that stalls, or retries that go on, never hold an operation past its overall deadline.
 */
function withDeadline<T>(op: (signal: AbortSignal) => Promise<T>, seconds: number, uri: string, what: string): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StorageError('Unavailable', uri, `GCS did not complete the ${what} of ${uri} within ${seconds} s (stalled or too slow); giving up`));
      abort.abort();
    }, seconds * 1000);
    timer.unref();
  });
  return Promise.race([op(abort.signal), deadline]).finally(() => clearTimeout(timer));
}

/**
 * The length a response body must end at: its Content-Length, unless the body is compressed in
 * transit (the client then inflates it, and the inflated length is unknown here).
 */
function bodyLength(headers: Record<string, string | undefined> | undefined): number | undefined {
  const encoding = headers?.['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return undefined;
  const length = Number(headers?.['content-length']);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/**
 * The object's body from the client's read stream (CRC32C-checked by the client), under
 * {@link guardBody}: silent for `idleMs` while read, or ended short of its Content-Length, it
 * errors with StorageError('Unavailable') naming the object; the client's errors are mapped to
 * StorageErrors too. Until the response starts, the wait is bounded by `openMs` when given.
 */
function guardedRead(file: File, uri: string, idleMs: number, openMs?: number): GuardedBody {
  const source = file.createReadStream({ validation: 'crc32c' });
  const body = guardBody(source, {
    idleMs,
    ...(openMs !== undefined ? { openMs } : {}),
    errors: {
      idle: (n) => new StorageError('Unavailable', uri, `GCS sent nothing for ${idleMs / 1000} s in the middle of ${uri} (after ${n} bytes): the download stalled`),
      open: () => new StorageError('Unavailable', uri, `GCS did not start sending ${uri} within ${(openMs ?? 0) / 1000} s (stalled or too slow); giving up`),
      length: (n, expected) =>
        new StorageError('Unavailable', uri, `the download of ${uri} ended after ${n} bytes${expected !== undefined ? ` of ${expected}` : ''} (connection closed early): incomplete`),
      source: (err) => mapGcsError(err, uri),
    },
  });
  source.once('response', (res: { headers?: Record<string, string | undefined> }) => body.started(bodyLength(res.headers)));
  return body;
}

/** One attempt at the whole object; its stream is let go when `signal` aborts. */
async function downloadOnce(file: File, uri: string, idleMs: number, signal: AbortSignal): Promise<Buffer> {
  const { stream } = guardedRead(file, uri, idleMs);
  const onAbort = () => stream.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
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
  const bounded = <T>(what: string, uri: string, op: (signal: AbortSignal) => Promise<T>): Promise<T> => withDeadline(op, retry.totalTimeout, uri, what);
  const file = (uri: string) => {
    const { bucket, key } = gsLocation(uri);
    if (key.length === 0 || key.endsWith('/')) throw new StorageError('InvalidUri', uri, `expected an object, got a prefix: ${uri}`);
    return gcs().bucket(bucket).file(key);
  };
  /**
   * The object, for a download. `forever: false` keeps its requests off the client's shared
   * keep-alive agent: when a read stream fails or is let go (a stall abandoned), the client
   * destroys the agent its request used, and with the shared one every other download in flight
   * would lose its connection (measured: a healthy concurrent stream died with the stalled one).
   * The price: the socket of an abandoned download is left to the server to close. `ownRetries`
   * turns the client's retries off, for callers that retry the download themselves.
   */
  const download = (uri: string, ownRetries: boolean) => {
    const f = file(uri);
    // (The interceptor's input type allows a `url` instead of the `uri` the library always sets.)
    f.interceptors.push({
      request: (reqOpts) => ({ ...(reqOpts as typeof reqOpts & { uri: string }), forever: false, ...(ownRetries ? { maxRetries: 0 } : {}) }),
    });
    return f;
  };

  return {
    async list(prefix: string): Promise<StorageEntry[]> {
      const { bucket, key } = gsLocation(prefix);
      const dir = key.length === 0 || key.endsWith('/') ? key : `${key}/`;
      try {
        const [files] = await bounded('listing', prefix, () => gcs().bucket(bucket).getFiles({ prefix: dir, autoPaginate: true }));
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
      // Every retry of a download is made here, so that a stalled, short or corrupted body is
      // retried like a 503 is, with one backoff and one budget (maxRetries).
      const f = download(uri, true);
      let attempts = 0;
      let mismatches = 0;
      const isRetryable = (err: unknown) => isRetryableDownloadError(err) && !(isChecksumMismatch(err) && ++mismatches > CHECKSUM_RETRIES);
      const delayMs = (n: number, err: unknown) => (isChecksumMismatch(err) ? 0 : retryDelayMs(n, retry));
      try {
        return await bounded('download', uri, (signal) =>
          retryWithBackoff(
            (n) => {
              attempts = n + 1;
              return downloadOnce(f, uri, retry.requestTimeoutMs, signal);
            },
            { policy: retry, isRetryable, delayMs, signal },
          ),
        );
      } catch (err) {
        const e = mapGcsError(err, uri);
        if (attempts <= 1) throw e;
        throw new StorageError(e.reason, uri, `${e.message} (${attempts} attempts)`, { cause: e.cause ?? err });
      }
    },

    readStream(uri: string): Readable {
      // A stream cannot be retried once bytes have gone to the consumer: the client retries the
      // requests that open it, the overall deadline bounds the opening, and then the body may be
      // silent for at most requestTimeoutMs while the consumer waits (a slow consumer is never
      // timed out). Its errors are StorageErrors.
      const { stream } = guardedRead(download(uri, false), uri, retry.requestTimeoutMs, retry.totalTimeout * 1000);
      return stream;
    },

    async write(uri: string, data: Buffer | string, opts?: WriteOptions): Promise<void> {
      try {
        // Single-request upload: artifacts are a few MB, and resumable sessions add round trips.
        await bounded('upload', uri, () =>
          file(uri).save(typeof data === 'string' ? Buffer.from(data) : data, {
            resumable: false,
            // A simple upload has no request timeout of its own: give it the policy's.
            timeout: retry.requestTimeoutMs,
            ...(opts?.contentType ? { contentType: opts.contentType } : {}),
            ...(opts?.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
          }),
        );
      } catch (err) {
        throw mapGcsError(err, uri);
      }
    },

    async exists(uri: string): Promise<boolean> {
      try {
        const [yes] = await bounded('existence check', uri, () => file(uri).exists());
        return yes;
      } catch (err) {
        throw mapGcsError(err, uri);
      }
    },

    async stat(uri: string): Promise<StorageStat> {
      try {
        const [meta] = await bounded('metadata read', uri, () => file(uri).getMetadata());
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

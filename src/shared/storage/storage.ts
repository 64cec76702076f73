import type { Readable } from 'node:stream';
import { ReasonError } from '../errors.js';

/** One object found under a prefix. */
export interface StorageEntry {
  /** Full URI of the object, in the same form as the listed prefix. */
  readonly uri: string;
  /** Path relative to the listed prefix, slash-separated (e.g. `cat/001.jpg`). */
  readonly name: string;
  readonly size: number;
}

export interface StorageStat {
  readonly size: number;
  readonly contentType?: string;
  readonly updated?: Date;
}

export interface WriteOptions {
  readonly contentType?: string;
  /**
   * Create only: fail with StorageError('AlreadyExists') when the object is already there
   * (an atomic create, so that of several writers racing for one name exactly one wins).
   */
  readonly ifAbsent?: boolean;
}

/**
 * Object storage as the worker and the server see it: a flat namespace of objects addressed by
 * URI, where "folders" are only key prefixes. Implementations: local files (`file://`, plain
 * paths) and Google Cloud Storage (`gs://`). Errors are {@link StorageError}s with a bounded
 * reason, so callers can tell "not there" from "not allowed" from "try later".
 */
export interface Storage {
  /** Every object under `prefix` (recursively), sorted by name. An absent prefix lists nothing. */
  list(prefix: string): Promise<StorageEntry[]>;
  /** The whole object. Throws StorageError('NotFound') when absent. */
  read(uri: string): Promise<Buffer>;
  /** A stream of the object, for large objects that should not sit in memory at once. */
  readStream(uri: string): Readable;
  /** Creates or replaces the object (parent "folders" are created as needed); `ifAbsent` only creates. */
  write(uri: string, data: Buffer | string, options?: WriteOptions): Promise<void>;
  exists(uri: string): Promise<boolean>;
  /** Throws StorageError('NotFound') when absent. */
  stat(uri: string): Promise<StorageStat>;
}

export const StorageErrorReasons = ['NotFound', 'AccessDenied', 'Unavailable', 'InvalidUri', 'Misconfigured', 'AlreadyExists'] as const;
export type StorageErrorReason = (typeof StorageErrorReasons)[number];

/**
 * A storage failure with a bounded reason. `NotFound`, `AccessDenied`, `InvalidUri`,
 * `Misconfigured` and `AlreadyExists` (a create-only write found the object) fail the same way
 * on retry; `Unavailable` means retries were exhausted on
 * 429/5xx or network errors.
 */
export class StorageError extends ReasonError<StorageErrorReason> {
  readonly uri: string;
  constructor(reason: StorageErrorReason, uri: string, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.uri = uri;
  }
}

export function isStorageError(err: unknown, reason?: StorageErrorReason): err is StorageError {
  return err instanceof StorageError && (reason === undefined || err.reason === reason);
}

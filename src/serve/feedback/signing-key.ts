import { randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { signingKeyUri } from '../../shared/prediction-log/layout.js';
import { isStorageError, type Storage } from '../../shared/storage/index.js';

const KEY_BYTES = 32;

/**
 * The key that signs prediction ids, shared through the prediction log itself:
 * `<log>/keys/prediction-id.key`. The first server to start creates it with a create-only
 * write; every other one (a second replica, the next version after a rollout, a restart) reads
 * that same key, so they all accept each other's ids with no other setup. Whoever can read the
 * log's bucket can mint ids — the same people who can already write the log.
 *
 * Storage errors other than "not there yet" are retried with backoff (the server is not ready
 * meanwhile) until `deadline`; an unusable key file is an error.
 */
export async function loadSigningKey(options: { storage: Storage; logUri: string; clock: Clock; logger: Logger; deadline: number }): Promise<Buffer> {
  const { storage, clock, logger } = options;
  const uri = signingKeyUri(options.logUri);
  let delay = 250;
  for (;;) {
    try {
      return await readOrCreate(storage, uri);
    } catch (err) {
      if (isStorageError(err) && (err.reason === 'AccessDenied' || err.reason === 'InvalidUri' || err.reason === 'Misconfigured')) throw err;
      if (!isStorageError(err)) throw err;
      if (clock.now() + delay > options.deadline) throw err;
      logger.warn({ uri, err: errorMessage(err), retryInMs: delay }, 'prediction id key not readable yet; retrying');
      await new Promise<void>((resolve) => clock.setTimer(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

async function readOrCreate(storage: Storage, uri: string): Promise<Buffer> {
  try {
    return decode(await storage.read(uri), uri);
  } catch (err) {
    if (!isStorageError(err, 'NotFound')) throw err;
  }
  try {
    const fresh = randomBytes(KEY_BYTES).toString('base64');
    await storage.write(uri, `${fresh}\n`, { contentType: 'text/plain', ifAbsent: true });
    return decode(Buffer.from(fresh), uri);
  } catch (err) {
    // Another server created it first: use theirs.
    if (isStorageError(err, 'AlreadyExists')) return decode(await storage.read(uri), uri);
    throw err;
  }
}

function decode(text: Buffer, uri: string): Buffer {
  const key = Buffer.from(text.toString('utf8').trim(), 'base64');
  if (key.length < 16) throw new Error(`the prediction id key at ${uri} is not a base64 key of at least 16 bytes`);
  return key;
}

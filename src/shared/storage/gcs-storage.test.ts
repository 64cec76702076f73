import { expect } from 'chai';
import { isRetryableDownloadError, mapGcsError } from './gcs-storage.js';
import { StorageError } from './storage.js';

/** The client's checksum error, as @google-cloud/storage builds it (a RequestError with this code). */
function checksumError(): Error {
  return Object.assign(new Error('The downloaded data did not match the data from the server.'), { code: 'CONTENT_DOWNLOAD_MISMATCH' });
}

describe('gcs-storage error rules', () => {
  const uri = 'gs://b/models/m/weights.bin';

  it('maps a checksum mismatch to Unavailable naming the object and the mismatch', () => {
    const e = mapGcsError(checksumError(), uri);
    expect(e).to.be.instanceOf(StorageError).with.property('reason', 'Unavailable');
    expect(e.message).to.equal(`the bytes GCS sent for ${uri} did not match the object's checksum (CRC32C/MD5 in x-goog-hash): corrupted in transit`);
  });

  it('retries a download on 5xx, 429, resets, a damaged body and Unavailable; not on 404, 403 or a bad URI', () => {
    for (const err of [
      Object.assign(new Error('x'), { code: 503 }),
      Object.assign(new Error('x'), { code: 429 }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      checksumError(),
      mapGcsError(checksumError(), uri),
      new StorageError('Unavailable', uri, 'GCS sent nothing for 1 s in the middle of …'),
    ]) {
      expect(isRetryableDownloadError(err), err.message).to.equal(true);
    }
    for (const err of [
      Object.assign(new Error('x'), { code: 404 }),
      Object.assign(new Error('x'), { code: 403 }),
      new StorageError('NotFound', uri, 'not found'),
      new StorageError('AccessDenied', uri, 'denied'),
      new StorageError('InvalidUri', uri, 'bad'),
    ]) {
      expect(isRetryableDownloadError(err), err.message).to.equal(false);
    }
  });
});

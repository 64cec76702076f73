import { StorageError, type Storage } from '../../../shared/storage/index.js';

export interface OutageStorage extends Storage {
  /** While true, every write fails with StorageError('Unavailable'), as GCS does after its retries. */
  down: boolean;
  /** Write attempts seen, failed ones included. */
  attempts: number;
}

/**
 * Real storage (local files) with an outage switch on writes: the one thing a local file system
 * cannot produce on demand. A test double at the edge, for unit tests of the log's buffering;
 * test/integration/serve/prediction-log.test.ts produces the same outage against
 * fake-gcs-server through a faulty proxy.
 */
export function outageStorage(real: Storage): OutageStorage {
  const s: OutageStorage = {
    ...real,
    down: false,
    attempts: 0,
    async write(uri, data, options) {
      s.attempts++;
      if (s.down) throw new StorageError('Unavailable', uri, `injected outage writing ${uri}`);
      await real.write(uri, data, options);
    },
  };
  return s;
}

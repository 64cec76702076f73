import { Storage as GcsClient } from '@google-cloud/storage';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';
import { storageFor, type GcsRetryPolicy, type Storage } from '../../../src/shared/storage/index.js';
import { startFlakyProxy, type FlakyProxy } from './flaky-proxy.js';

/** A bucket on a real fake-gcs-server, reached through a {@link FlakyProxy} that misbehaves on demand. */
export interface FaultyBucket {
  readonly gcs: FakeGcs;
  readonly proxy: FlakyProxy;
  /** The environment a `kennel` process needs to reach the bucket through the proxy. */
  readonly env: Readonly<Record<string, string>>;
  /** gs:// storage through the proxy, with this retry policy. */
  storage(retry?: Partial<GcsRetryPolicy>): Storage;
  close(): Promise<void>;
}

/** Starts fake-gcs-server, creates `bucket` on it and puts a flaky proxy in front. */
export async function startFaultyBucket(bucket: string): Promise<FaultyBucket> {
  const gcs = await startFakeGcs();
  try {
    await new GcsClient({ apiEndpoint: gcs.endpoint, projectId: 'test' }).createBucket(bucket);
    const proxy = await startFlakyProxy(gcs.endpoint);
    const env = { KENNEL_GCS_AUTH: 'emulator', KENNEL_GCS_ENDPOINT: proxy.endpoint };
    return {
      gcs,
      proxy,
      env,
      storage: (retry) => storageFor(`gs://${bucket}/`, { env, ...(retry ? { gcsRetry: retry } : {}) }),
      async close() {
        await proxy.close();
        await gcs.stop();
      },
    };
  } catch (err) {
    await gcs.stop();
    throw err;
  }
}

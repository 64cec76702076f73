import { startThread, threadModule, type Thread } from '../../shared/thread-rpc/start-thread.js';
import type { BackendPreference } from '../backend/select.js';
import type { FoldedNode } from '../backbone/fold.js';
import { sharedCopy, split } from '../fit/data-parallel.js';
import type { FeatureCache, FeatureMaps } from './features.js';
import type { FeatureWorkerCalls, FeatureWorkerInit } from './feature-worker.js';

/** One set of images to compute maps for, once per view. */
export interface ImageSet {
  readonly name: string;
  readonly pixels: Uint8Array;
  readonly count: number;
  /** Content hash per image: the cache key. */
  readonly keys?: readonly string[];
  readonly views: ReadonlyArray<'photo' | 'mirror'>;
}

export interface ParallelExtractOptions {
  readonly nodes: FoldedNode[];
  readonly input: string;
  readonly output: string;
  readonly size: number;
  readonly sets: readonly ImageSet[];
  readonly threads: number;
  readonly backend: BackendPreference;
  readonly cache: FeatureCache;
  /** Identifies the backbone, its cut and the image size in cache keys. */
  readonly cacheScope: string;
  onProgress?(done: number, total: number): void;
}

/**
 * Computes the frozen backbone's maps of every image of every set in each of its views, across
 * `threads` worker threads (each holding the backbone; the images are shared, not copied),
 * taking what the cache already holds and storing what is new. Returns maps by set and view, in
 * shared memory (the fine-tuning replicas read them without copies).
 */
export async function extractInParallel(o: ParallelExtractOptions): Promise<Map<string, FeatureMaps>> {
  const images: Record<string, Uint8Array> = {};
  for (const s of o.sets) images[s.name] = sharedCopy(s.pixels);
  const init: FeatureWorkerInit = { backend: o.backend, nodes: o.nodes, input: o.input, output: o.output, images, size: o.size };
  const threads: Array<Thread<FeatureWorkerCalls, string>> = [];
  const total = o.sets.reduce((s, set) => s + set.count * set.views.length, 0);
  let done = 0;
  try {
    const out = new Map<string, FeatureMaps>();
    for (const set of o.sets) {
      for (const view of set.views) {
        const key = (i: number): string | undefined => (set.keys ? `${o.cacheScope}/${view}/${set.keys[i] as string}` : undefined);
        const missing: number[] = [];
        for (let i = 0; i < set.count; i++) {
          const k = key(i);
          if (!k || !o.cache.get(k)) missing.push(i);
        }
        let shape: [number, number, number] | undefined;
        let data: Float32Array | undefined;
        const place = (i: number, map: Float32Array): Float32Array => {
          data ??= new Float32Array(new SharedArrayBuffer(set.count * map.length * 4));
          data.set(map, i * map.length);
          return data.subarray(i * map.length, (i + 1) * map.length);
        };
        if (missing.length > 0) {
          while (threads.length < Math.max(1, o.threads)) {
            threads.push(await startThread<FeatureWorkerCalls, string, FeatureWorkerInit>({ entry: threadModule(import.meta.url, 'feature-worker'), init, name: 'feature worker' }));
          }
          // Chunks of 64 images, handed to whichever thread is free, so progress moves steadily.
          const chunks = split(Int32Array.from(missing), Math.ceil(missing.length / 64));
          let next = 0;
          await Promise.all(
            threads.map(async (t) => {
              while (next < chunks.length) {
                const chunk = chunks[next++] as Int32Array;
                const res = await t.call('extract', { images: set.name, indices: chunk, mirror: view === 'mirror' });
                shape ??= res.shape;
                const per = res.data.length / chunk.length;
                chunk.forEach((src, j) => {
                  const stored = place(src, res.data.subarray(j * per, (j + 1) * per));
                  const k = key(src);
                  // The cache keeps a view of the shared maps, not a second copy.
                  if (k) o.cache.set(k, stored);
                });
                done += chunk.length;
                o.onProgress?.(done, total);
              }
            }),
          );
        }
        const computed = new Set(missing);
        for (let i = 0; i < set.count; i++) {
          if (computed.has(i)) continue;
          const map = o.cache.get(key(i) as string) as Float32Array;
          place(i, map);
          done++;
        }
        if (shape) o.cache.set(`${o.cacheScope}/shape`, Float32Array.from(shape));
        else shape = cachedShape(o);
        out.set(`${set.name}/${view}`, { count: set.count, shape, data: data ?? new Float32Array(0) });
      }
    }
    return out;
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

/** The map shape when every map came from the cache: recorded with the maps. */
function cachedShape(o: ParallelExtractOptions): [number, number, number] {
  const shape = o.cache.get(`${o.cacheScope}/shape`);
  if (!shape || shape.length !== 3) throw new Error('the feature cache holds maps but not their shape');
  return [shape[0] as number, shape[1] as number, shape[2] as number];
}

import * as tf from '@tensorflow/tfjs';
import type { GraphNet } from './graph-net.js';

/** Per-image feature maps [count, h, w, c], back to back. */
export interface FeatureMaps {
  readonly count: number;
  /** [h, w, c] of one image's map. */
  readonly shape: readonly [number, number, number];
  readonly data: Float32Array;
}

/** Where computed features are kept across calls (and, for a disk-backed cache, across runs). */
export interface FeatureCache {
  get(key: string): Float32Array | undefined;
  set(key: string, value: Float32Array): void;
}

/** An in-memory cache, per process. */
export function memoryFeatureCache(): FeatureCache & { readonly size: number } {
  const map = new Map<string, Float32Array>();
  return {
    get: (key) => map.get(key),
    set: (key, value) => void map.set(key, value),
    get size() {
      return map.size;
    },
  };
}

/** Mirrors `count` RGB images of `size`² left-right (a new buffer). */
export function flipImages(pixels: Uint8Array, count: number, size: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  const row = size * 3;
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < size; y++) {
      const base = (i * size + y) * row;
      for (let x = 0; x < size; x++) {
        const s = base + x * 3;
        const d = base + (size - 1 - x) * 3;
        out[d] = pixels[s] as number;
        out[d + 1] = pixels[s + 1] as number;
        out[d + 2] = pixels[s + 2] as number;
      }
    }
  }
  return out;
}

export interface ExtractOptions {
  readonly net: GraphNet;
  /** count × size² × 3 RGB bytes. */
  readonly pixels: Uint8Array;
  readonly count: number;
  readonly size: number;
  /** Content hash of each image (cache key); parallel to the images. */
  readonly keys?: readonly string[];
  readonly cache?: FeatureCache;
  /** Prefix of the cache key: identifies the backbone, its cut, the size and the view. */
  readonly cacheScope?: string;
  readonly batchSize?: number;
  onProgress?(done: number): void;
}

/**
 * Runs the frozen `net` (inference pass) over every image and returns its output maps, taking
 * each image's map from the cache when its key is there and storing the new ones. Input is scaled
 * to [0, 1] as everywhere else (src/ml/preprocess.ts).
 */
export function extractFeatures(o: ExtractOptions): FeatureMaps {
  const frame = o.size * o.size * 3;
  const batchSize = o.batchSize ?? 16;
  const key = (i: number): string | undefined => (o.cache && o.keys ? `${o.cacheScope ?? ''}/${o.keys[i] as string}` : undefined);
  let shape: [number, number, number] | undefined;
  let data: Float32Array | undefined;
  const missing: number[] = [];
  const cached: Array<Float32Array | undefined> = [];
  for (let i = 0; i < o.count; i++) {
    const k = key(i);
    const hit = k ? o.cache?.get(k) : undefined;
    cached.push(hit);
    if (!hit) missing.push(i);
  }
  let done = o.count - missing.length;
  const place = (i: number, map: Float32Array): void => {
    data ??= new Float32Array(o.count * map.length);
    data.set(map, i * map.length);
  };
  for (let s = 0; s < missing.length; s += batchSize) {
    const idx = missing.slice(s, s + batchSize);
    const batch = new Float32Array(idx.length * frame);
    idx.forEach((src, j) => {
      const from = src * frame;
      for (let p = 0; p < frame; p++) batch[j * frame + p] = (o.pixels[from + p] as number) / 255;
    });
    const out = tf.tidy(() => o.net.forward(tf.tensor4d(batch, [idx.length, o.size, o.size, 3]), { training: false }));
    shape ??= [out.shape[1], out.shape[2], out.shape[3]];
    const values = out.dataSync() as Float32Array;
    out.dispose();
    const per = values.length / idx.length;
    idx.forEach((src, j) => {
      const map = values.slice(j * per, (j + 1) * per);
      place(src, map);
      const k = key(src);
      if (k) o.cache?.set(k, map);
    });
    done += idx.length;
    o.onProgress?.(done);
  }
  cached.forEach((map, i) => {
    if (map) place(i, map);
  });
  if (!shape) shape = inferShape(o);
  return { count: o.count, shape, data: data ?? new Float32Array(0) };
}

/** The output shape when every map came from the cache: one forward pass on a blank image. */
function inferShape(o: ExtractOptions): [number, number, number] {
  return tf.tidy(() => {
    const out = o.net.forward(tf.zeros([1, o.size, o.size, 3]), { training: false });
    return [out.shape[1], out.shape[2], out.shape[3]];
  });
}

/**
 * Worker-thread entry of feature extraction: holds the frozen bottom of a backbone and the images
 * (shared memory), and computes the boundary maps of a range of them, the photo or its mirror.
 */
import { selectBackend, type BackendPreference } from '../backend/select.js';
import type { FoldedNode } from '../backbone/fold.js';
import { transferring, type Transferring } from '../../shared/thread-rpc/protocol.js';
import { serveThread } from '../../shared/thread-rpc/serve-thread.js';
import { extractFeatures, flipImages } from './features.js';
import { GraphNet } from './graph-net.js';

export interface FeatureWorkerInit {
  backend: BackendPreference;
  nodes: FoldedNode[];
  input: string;
  output: string;
  /** count × size² × 3 RGB bytes per image set (e.g. train, validation), shared. */
  images: Record<string, Uint8Array>;
  size: number;
}

export interface FeatureWorkerCalls {
  /** Maps of images `indices` of set `images`, as [indices.length, h, w, c] floats, moved back. */
  extract(arg: { images: string; indices: Int32Array; mirror: boolean }): Transferring<{ data: Float32Array; shape: [number, number, number] }>;
}

serveThread(async (init: FeatureWorkerInit) => {
  const chosen = await selectBackend({ preference: init.backend });
  const net = new GraphNet(init.nodes, init.input, init.output);
  const frame = init.size * init.size * 3;
  const handlers: FeatureWorkerCalls = {
    extract({ images, indices, mirror }) {
      const all = init.images[images];
      if (!all) throw new Error(`no image set "${images}"`);
      const part = new Uint8Array(indices.length * frame);
      indices.forEach((src, j) => part.set(all.subarray(src * frame, (src + 1) * frame), j * frame));
      const maps = extractFeatures({ net, pixels: mirror ? flipImages(part, indices.length, init.size) : part, count: indices.length, size: init.size });
      return transferring({ data: maps.data, shape: [...maps.shape] as [number, number, number] }, [maps.data.buffer as ArrayBuffer]);
    },
  };
  return { info: chosen.name, handlers };
});

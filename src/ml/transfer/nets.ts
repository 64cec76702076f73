import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../shared/random.js';
import type { FeatureMaps } from './features.js';
import type { GraphNet } from './graph-net.js';
import type { ExampleSource, LogitNet } from './train-loop.js';

/** The classifier head: dropout (training only), then dense logits. W [features, classes], b [classes]. */
export class Head {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(features: number, classes: number, readonly dropout: number, seed: number) {
    this.kernel = tf.tidy(() => tf.variable(tf.randomNormal([features, classes], 0, Math.sqrt(1 / features), 'float32', seed), true));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([classes]), true));
  }

  logits(pooled: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D {
    const x = training && this.dropout > 0 ? tf.dropout(pooled, this.dropout, undefined, seed) : pooled;
    return tf.add(tf.matMul(x, this.kernel as tf.Tensor2D), this.bias) as tf.Tensor2D;
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}

/** The head alone, on pooled features [n, features]. */
export function headNet(head: Head): LogitNet {
  return { variables: () => [head.kernel, head.bias], logits: (x, training, seed) => head.logits(x as tf.Tensor2D, training, seed) };
}

/** The trainable top blocks, global average pooling and the head, on boundary maps [n, h, w, c]. */
export function topHeadNet(top: GraphNet, head: Head): LogitNet {
  return {
    variables: () => [...top.variables(), head.kernel, head.bias],
    logits: (x, training, seed) => head.logits(tf.mean(top.forward(x as tf.Tensor4D, { training }), [1, 2]) as tf.Tensor2D, training, seed),
  };
}

/** Global-average-pools maps [n, h, w, c] → [n, c] in JavaScript (no tensors). */
export function poolMaps(maps: FeatureMaps): Float32Array {
  const [h, w, c] = maps.shape;
  const hw = h * w;
  const out = new Float32Array(maps.count * c);
  for (let i = 0; i < maps.count; i++) {
    const base = i * hw * c;
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[i * c + k] = (out[i * c + k] as number) + (maps.data[base + p * c + k] as number);
    for (let k = 0; k < c; k++) out[i * c + k] = (out[i * c + k] as number) / hw;
  }
  return out;
}

/**
 * Examples whose inputs are rows of `views[v]` (each [count, ...rowShape]); training batches
 * take each example from a random view (e.g. the photo or its mirror image), then `transform`
 * (e.g. a random shift) when given.
 */
export function viewSource(options: {
  views: readonly Float32Array[];
  count: number;
  rowShape: readonly number[];
  labels: Int32Array;
  transform?: (row: Float32Array, rng: () => number) => Float32Array;
}): ExampleSource {
  const rowLength = options.rowShape.reduce((a, b) => a * b, 1);
  return {
    count: options.count,
    labels: options.labels,
    batch(indices, augment) {
      const rng = augment ? seededRandom(augment.seed) : undefined;
      const out = new Float32Array(indices.length * rowLength);
      indices.forEach((src, j) => {
        const view = rng ? (options.views[Math.floor(rng() * options.views.length)] as Float32Array) : (options.views[0] as Float32Array);
        let row = view.subarray(src * rowLength, (src + 1) * rowLength);
        if (rng && options.transform) row = options.transform(row, rng);
        out.set(row, j * rowLength);
      });
      return tf.tensor(out, [indices.length, ...options.rowShape], 'float32');
    },
  };
}

/**
 * A random translation of a feature map [h, w, c] by up to `max` cells in each direction, edges
 * repeated: the feature-space counterpart of a random crop (one cell of a stride-16 map is 16
 * pixels of the photo).
 */
export function shiftMap(h: number, w: number, c: number, max: number): (row: Float32Array, rng: () => number) => Float32Array {
  return (row, rng) => {
    const dy = Math.floor(rng() * (2 * max + 1)) - max;
    const dx = Math.floor(rng() * (2 * max + 1)) - max;
    if (dy === 0 && dx === 0) return row;
    const out = new Float32Array(row.length);
    for (let y = 0; y < h; y++) {
      const sy = Math.min(h - 1, Math.max(0, y + dy));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(w - 1, Math.max(0, x + dx));
        out.set(row.subarray((sy * w + sx) * c, (sy * w + sx + 1) * c), (y * w + x) * c);
      }
    }
    return out;
  };
}

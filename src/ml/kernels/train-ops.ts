import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelModule } from './kernel-module.js';
import { registeredKernelModule } from './register.js';

/**
 * Fused training ops used by Kennel's training step instead of the generic graph TensorFlow.js
 * builds for batch norm and pooling (whose gradients materialise several full-size temporaries
 * and a Tile per layer). On the 'wasm' backend with channels % 4 == 0 they run in Kennel's SIMD
 * module; elsewhere they run as plain TensorFlow.js ops with the same math.
 */

/** Batch statistics of one `batchNormTrain` call (biased variance, as TF.js layers uses). */
export interface BatchStats {
  mean: Float32Array;
  variance: Float32Array;
}

function wasmModuleFor(channels: number): KernelModule | undefined {
  if (channels % 4 !== 0 || tf.getBackend() !== 'wasm') return undefined;
  return registeredKernelModule();
}

function heap(t: tf.Tensor): Float32Array {
  return (tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array;
}

/**
 * Training-mode batch normalisation over all axes but the last:
 * y = (x − mean) / sqrt(var + ε) · gamma + beta with the batch's mean and variance.
 * x [..., C], gamma/beta [C] → y like x; `onStats` receives the batch statistics (for the moving
 * averages). Differentiable in x, gamma and beta (the full gradient through the statistics).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, onStats?: (s: BatchStats) => void): tf.Tensor {
  const c = x.shape[x.rank - 1] as number;
  const mod = wasmModuleFor(c);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const p = xi.size / c;
    let mean: Float32Array;
    let invStd: Float32Array;
    let y: tf.Tensor;
    if (mod) {
      const gam = heap(g).slice();
      const bet = heap(b).slice();
      mod.reset();
      const xp = mod.put(heap(xi));
      const shiftPtr = mod.put(heap(xi).subarray(0, c)); // first row: a shift that keeps E[(x−s)²] well conditioned
      const shift = mod.f32(shiftPtr, c).slice();
      const sums = mod.alloc(c * 8);
      const sq = mod.alloc(c * 8);
      mod.f64(sums, c).fill(0);
      mod.f64(sq, c).fill(0);
      mod.kernels.channelMoments(xp, p, c, shiftPtr, sums, sq);
      const s1 = mod.f64(sums, c).slice();
      const s2 = mod.f64(sq, c).slice();
      mean = new Float32Array(c);
      invStd = new Float32Array(c);
      const variance = new Float32Array(c);
      const scale = new Float32Array(c);
      const offset = new Float32Array(c);
      for (let i = 0; i < c; i++) {
        const m = (s1[i] as number) / p;
        const dm = m - (shift[i] as number);
        const v = Math.max(0, (s2[i] as number) / p - dm * dm);
        mean[i] = m;
        variance[i] = v;
        invStd[i] = 1 / Math.sqrt(v + epsilon);
        scale[i] = (gam[i] as number) * (invStd[i] as number);
        offset[i] = (bet[i] as number) - m * (scale[i] as number);
      }
      onStats?.({ mean, variance });
      const sp = mod.put(scale);
      const op = mod.put(offset);
      const out = mod.alloc(xi.size * 4);
      mod.kernels.channelAffine2(xp, 0, out, p, c, sp, 0, op);
      y = tf.tensor(mod.f32(out, xi.size), xi.shape, 'float32');
    } else {
      const axes = [...Array(xi.rank - 1).keys()];
      const { mean: m, variance: v } = tf.moments(xi, axes);
      mean = m.dataSync() as Float32Array;
      const varData = v.dataSync() as Float32Array;
      invStd = varData.map((vv) => 1 / Math.sqrt(vv + epsilon));
      onStats?.({ mean, variance: varData });
      y = tf.tidy(() => tf.add(tf.mul(tf.mul(tf.sub(xi, m), tf.tensor1d(invStd)), g), b));
      m.dispose();
      v.dispose();
    }
    save([xi, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs] = saved as [tf.Tensor, tf.Tensor];
        return bnBackward(mod, dy, xs, gs, mean, invStd);
      },
    };
  });
  return op(x, gamma, beta);
}

function bnBackward(mod: KernelModule | undefined, dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, mean: Float32Array, invStd: Float32Array): tf.Tensor[] {
  const c = mean.length;
  const p = x.size / c;
  let sumDy: Float64Array;
  let sumDyXc: Float64Array;
  const gam = (mod ? heap(gamma).slice() : gamma.dataSync()) as Float32Array;
  if (mod) {
    mod.reset();
    const dyp = mod.put(heap(dy));
    const xp = mod.put(heap(x));
    const mp = mod.put(mean);
    const s1 = mod.alloc(c * 8);
    const s2 = mod.alloc(c * 8);
    mod.f64(s1, c).fill(0);
    mod.f64(s2, c).fill(0);
    mod.kernels.bnBackwardSums(dyp, xp, p, c, mp, s1, s2);
    sumDy = mod.f64(s1, c).slice();
    sumDyXc = mod.f64(s2, c).slice();
    const { a, b, d } = coefficients();
    const ap = mod.put(a);
    const bp = mod.put(b);
    const dp = mod.put(d);
    const out = mod.alloc(x.size * 4);
    mod.kernels.channelAffine2(dyp, xp, out, p, c, ap, bp, dp);
    const dx = tf.tensor(mod.f32(out, x.size), x.shape, 'float32');
    return [dx, ...paramGrads()];
  }
  const axes = [...Array(x.rank - 1).keys()];
  const read = (f: () => tf.Tensor): Float64Array => {
    const t = tf.tidy(f);
    const values = Float64Array.from(t.dataSync());
    t.dispose();
    return values;
  };
  sumDy = read(() => tf.sum(dy, axes));
  sumDyXc = read(() => tf.sum(tf.mul(dy, tf.sub(x, tf.tensor1d(mean))), axes));
  const { a, b, d } = coefficients();
  const dx = tf.tidy(() => tf.add(tf.add(tf.mul(dy, tf.tensor1d(a)), tf.mul(x, tf.tensor1d(b))), tf.tensor1d(d)));
  return [dx, ...paramGrads()];

  // dx = gamma·invStd·(dy − ΣDy/P − (x−mean)·invStd²·Σ(dy·(x−mean))/P) = a·dy + b·x + d
  function coefficients(): { a: Float32Array; b: Float32Array; d: Float32Array } {
    const a = new Float32Array(c);
    const b = new Float32Array(c);
    const d = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      const is = invStd[i] as number;
      const ai = (gam[i] as number) * is;
      const bi = (-ai * is * is * (sumDyXc[i] as number)) / p;
      a[i] = ai;
      b[i] = bi;
      d[i] = (-ai * (sumDy[i] as number)) / p - bi * (mean[i] as number);
    }
    return { a, b, d };
  }
  function paramGrads(): tf.Tensor[] {
    const dGamma = new Float32Array(c);
    for (let i = 0; i < c; i++) dGamma[i] = (sumDyXc[i] as number) * (invStd[i] as number);
    return [tf.tensor1d(dGamma), tf.tensor1d(Float32Array.from(sumDy))];
  }
}

/**
 * y = relu(maxPool(x, 2×2, stride 2, VALID)), x [N, H, W, C] → [N, ⌊H/2⌋, ⌊W/2⌋, C]. Equal to
 * maxPool(relu(x)) (both are monotone), but the ReLU touches a quarter of the data; the gradient
 * is one pass routing dy to each window's first maximum.
 */
export function maxPoolRelu(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const mod = wasmModuleFor(c);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.tidy(() => tf.relu(tf.maxPool(xi as tf.Tensor4D, 2, 2, 'valid')));
    save([xi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
        if (!mod) {
          return tf.tidy(() => {
            const pooled = tf.maxPool(xs, 2, 2, 'valid');
            const masked = tf.mul(dy, tf.step(ys));
            return tf.engine().runKernel('MaxPoolGrad', { dy: masked, input: xs, output: pooled }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor;
          });
        }
        mod.reset();
        const xp = mod.put(heap(xs));
        const yp = mod.put(heap(ys));
        const dyp = mod.put(heap(dy));
        const dxp = mod.alloc(xs.size * 4);
        if (h % 2 !== 0 || w % 2 !== 0) mod.f32(dxp, xs.size).fill(0);
        mod.kernels.poolReluBackward(xp, yp, dyp, dxp, n, h, w, c);
        return tf.tensor(mod.f32(dxp, xs.size), xs.shape, 'float32');
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

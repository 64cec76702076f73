// Kennel's training kernels for the TensorFlow.js WebAssembly backend, in AssemblyScript with
// 128-bit SIMD. Built by `npm run build:kernels`; the compiled .wasm is never committed.
//
// Everything is one "gathered GEMM":  C[m, n] += sum_r  src[rowOff[m] + colOff[r]] * B[r, n]
// The gather tables turn a convolution into a matrix product without materialising im2col:
//  - conv forward / backprop-input: m = output pixel, r = (tap, channel), B = weights [r, n];
//  - backprop-filter:                m = (tap, channel), r = pixel,       B = dy [pixel, n].
// All pointers and table entries are BYTE offsets into this module's memory, which the host
// (TypeScript) lays out: the host pads M to a multiple of 4 and N to a multiple of 8.

@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * C[M, Np] += A·B with A gathered as described above. m % 4 == 0, np % 8 == 0.
 * rBlock bounds the slice of B kept hot in cache while every row tile of C sweeps it.
 */
export function gemmGather(src: usize, rowOff: usize, colOff: usize, b: usize, c: usize, m: i32, r: i32, np: i32, rBlock: i32): void {
  const rowBytes = <usize>np << 2;
  for (let r0 = 0; r0 < r; r0 += rBlock) {
    const r1 = min(r0 + rBlock, r);
    for (let n0 = 0; n0 < np; n0 += 8) {
      for (let m0 = 0; m0 < m; m0 += 4) {
        const ro = rowOff + (<usize>m0 << 2);
        const s0 = src + <usize>load<i32>(ro);
        const s1 = src + <usize>load<i32>(ro, 4);
        const s2 = src + <usize>load<i32>(ro, 8);
        const s3 = src + <usize>load<i32>(ro, 12);
        const cp = c + (<usize>m0 * rowBytes) + (<usize>n0 << 2);
        let a00 = v128.load(cp);
        let a01 = v128.load(cp, 16);
        let a10 = v128.load(cp + rowBytes);
        let a11 = v128.load(cp + rowBytes, 16);
        let a20 = v128.load(cp + 2 * rowBytes);
        let a21 = v128.load(cp + 2 * rowBytes, 16);
        let a30 = v128.load(cp + 3 * rowBytes);
        let a31 = v128.load(cp + 3 * rowBytes, 16);
        let bp = b + <usize>r0 * rowBytes + (<usize>n0 << 2);
        let co = colOff + (<usize>r0 << 2);
        const coEnd = colOff + (<usize>r1 << 2);
        while (co < coEnd) {
          const o = <usize>load<i32>(co);
          const b0 = v128.load(bp);
          const b1 = v128.load(bp, 16);
          let x = v128.load32_splat(s0 + o);
          a00 = fma(a00, x, b0);
          a01 = fma(a01, x, b1);
          x = v128.load32_splat(s1 + o);
          a10 = fma(a10, x, b0);
          a11 = fma(a11, x, b1);
          x = v128.load32_splat(s2 + o);
          a20 = fma(a20, x, b0);
          a21 = fma(a21, x, b1);
          x = v128.load32_splat(s3 + o);
          a30 = fma(a30, x, b0);
          a31 = fma(a31, x, b1);
          bp += rowBytes;
          co += 4;
        }
        v128.store(cp, a00);
        v128.store(cp, a01, 16);
        v128.store(cp + rowBytes, a10);
        v128.store(cp + rowBytes, a11, 16);
        v128.store(cp + 2 * rowBytes, a20);
        v128.store(cp + 2 * rowBytes, a21, 16);
        v128.store(cp + 3 * rowBytes, a30);
        v128.store(cp + 3 * rowBytes, a31, 16);
      }
    }
  }
}

/**
 * The inference form of {@link gemmGather}: C[M, Np] = act(A·B + bias) written once, with no
 * zeroed accumulator to read. The first r-block starts from `bias` (Np floats; 0 for none), later
 * blocks accumulate onto C, and the last one applies ReLU when `relu` is 1. Saves the zero fill,
 * the read of C in the first block and a separate bias/activation pass over the output, which
 * dominate when r is small (a first convolution over RGB has r = 27).
 */
export function gemmGatherBiasAct(src: usize, rowOff: usize, colOff: usize, b: usize, c: usize, m: i32, r: i32, np: i32, rBlock: i32, bias: usize, relu: i32): void {
  const rowBytes = <usize>np << 2;
  const zeroV = f32x4.splat(0);
  for (let r0 = 0; r0 < r; r0 += rBlock) {
    const r1 = min(r0 + rBlock, r);
    const first = r0 == 0;
    const last = r1 == r;
    for (let n0 = 0; n0 < np; n0 += 8) {
      const bias0 = bias != 0 ? v128.load(bias + (<usize>n0 << 2)) : zeroV;
      const bias1 = bias != 0 ? v128.load(bias + (<usize>n0 << 2), 16) : zeroV;
      for (let m0 = 0; m0 < m; m0 += 4) {
        const ro = rowOff + (<usize>m0 << 2);
        const s0 = src + <usize>load<i32>(ro);
        const s1 = src + <usize>load<i32>(ro, 4);
        const s2 = src + <usize>load<i32>(ro, 8);
        const s3 = src + <usize>load<i32>(ro, 12);
        const cp = c + (<usize>m0 * rowBytes) + (<usize>n0 << 2);
        let a00 = bias0;
        let a01 = bias1;
        let a10 = bias0;
        let a11 = bias1;
        let a20 = bias0;
        let a21 = bias1;
        let a30 = bias0;
        let a31 = bias1;
        if (!first) {
          a00 = v128.load(cp);
          a01 = v128.load(cp, 16);
          a10 = v128.load(cp + rowBytes);
          a11 = v128.load(cp + rowBytes, 16);
          a20 = v128.load(cp + 2 * rowBytes);
          a21 = v128.load(cp + 2 * rowBytes, 16);
          a30 = v128.load(cp + 3 * rowBytes);
          a31 = v128.load(cp + 3 * rowBytes, 16);
        }
        let bp = b + <usize>r0 * rowBytes + (<usize>n0 << 2);
        let co = colOff + (<usize>r0 << 2);
        const coEnd = colOff + (<usize>r1 << 2);
        while (co < coEnd) {
          const o = <usize>load<i32>(co);
          const b0 = v128.load(bp);
          const b1 = v128.load(bp, 16);
          let x = v128.load32_splat(s0 + o);
          a00 = fma(a00, x, b0);
          a01 = fma(a01, x, b1);
          x = v128.load32_splat(s1 + o);
          a10 = fma(a10, x, b0);
          a11 = fma(a11, x, b1);
          x = v128.load32_splat(s2 + o);
          a20 = fma(a20, x, b0);
          a21 = fma(a21, x, b1);
          x = v128.load32_splat(s3 + o);
          a30 = fma(a30, x, b0);
          a31 = fma(a31, x, b1);
          bp += rowBytes;
          co += 4;
        }
        if (last && relu != 0) {
          a00 = f32x4.max(a00, zeroV);
          a01 = f32x4.max(a01, zeroV);
          a10 = f32x4.max(a10, zeroV);
          a11 = f32x4.max(a11, zeroV);
          a20 = f32x4.max(a20, zeroV);
          a21 = f32x4.max(a21, zeroV);
          a30 = f32x4.max(a30, zeroV);
          a31 = f32x4.max(a31, zeroV);
        }
        v128.store(cp, a00);
        v128.store(cp, a01, 16);
        v128.store(cp + rowBytes, a10);
        v128.store(cp + rowBytes, a11, 16);
        v128.store(cp + 2 * rowBytes, a20);
        v128.store(cp + 2 * rowBytes, a21, 16);
        v128.store(cp + 3 * rowBytes, a30);
        v128.store(cp + 3 * rowBytes, a31, 16);
      }
    }
  }
}

/** Zeroes `bytes` bytes at `ptr` (bytes % 16 == 0). */
export function zero(ptr: usize, bytes: i32): void {
  memory.fill(ptr, 0, <usize>bytes);
}

// ---- batch norm (training) and max-pool + ReLU backward: memory-bound passes over [P, C] ----
// C % 4 == 0; channel statistics accumulate in f64 (the host reads them as Float64Array).

/** sums[c] += Σ_p x[p, c]  and  sq[c] += Σ_p (x[p, c] − shift[c])²  (f64 accumulators). */
export function channelMoments(x: usize, p: i32, c: i32, shift: usize, sums: usize, sq: usize): void {
  const rowBytes = <usize>c << 2;
  for (let c0 = 0; c0 < c; c0 += 4) {
    const s = v128.load(shift + (<usize>c0 << 2));
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let q0 = f64x2.splat(0);
    let q1 = f64x2.splat(0);
    let ptr = x + (<usize>c0 << 2);
    for (let i = 0; i < p; i++) {
      const v = v128.load(ptr);
      const d = f32x4.sub(v, s);
      const dd = f32x4.mul(d, d);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
      q0 = f64x2.add(q0, f64x2.promote_low_f32x4(dd));
      q1 = f64x2.add(q1, f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 2, 3, 0, 1)));
      ptr += rowBytes;
    }
    const so = sums + (<usize>c0 << 3);
    v128.store(so, f64x2.add(v128.load(so), a0));
    v128.store(so, f64x2.add(v128.load(so, 16), a1), 16);
    const qo = sq + (<usize>c0 << 3);
    v128.store(qo, f64x2.add(v128.load(qo), q0));
    v128.store(qo, f64x2.add(v128.load(qo, 16), q1), 16);
  }
}

/** sumDy[c] += Σ dy[p, c];  sumDyXc[c] += Σ dy[p, c]·(x[p, c] − mean[c])  (f64). */
export function bnBackwardSums(dy: usize, x: usize, p: i32, c: i32, mean: usize, sumDy: usize, sumDyXc: usize): void {
  const rowBytes = <usize>c << 2;
  for (let c0 = 0; c0 < c; c0 += 4) {
    const m = v128.load(mean + (<usize>c0 << 2));
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let b0 = f64x2.splat(0);
    let b1 = f64x2.splat(0);
    const off = <usize>c0 << 2;
    let pd = dy + off;
    let px = x + off;
    for (let i = 0; i < p; i++) {
      const g = v128.load(pd);
      const gx = f32x4.mul(g, f32x4.sub(v128.load(px), m));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(g));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(g, g, 2, 3, 0, 1)));
      b0 = f64x2.add(b0, f64x2.promote_low_f32x4(gx));
      b1 = f64x2.add(b1, f64x2.promote_low_f32x4(i32x4.shuffle(gx, gx, 2, 3, 0, 1)));
      pd += rowBytes;
      px += rowBytes;
    }
    const so = sumDy + (<usize>c0 << 3);
    v128.store(so, f64x2.add(v128.load(so), a0));
    v128.store(so, f64x2.add(v128.load(so, 16), a1), 16);
    const qo = sumDyXc + (<usize>c0 << 3);
    v128.store(qo, f64x2.add(v128.load(qo), b0));
    v128.store(qo, f64x2.add(v128.load(qo, 16), b1), 16);
  }
}

/** out[p, c] = a[c]·u[p, c] + b[c]·v[p, c] + d[c]  (v may equal 0 with b = 0 for y = a·u + d). */
export function channelAffine2(u: usize, v: usize, out: usize, p: i32, c: i32, a: usize, b: usize, d: usize): void {
  const rowBytes = <usize>c << 2;
  for (let i = 0; i < p; i++) {
    const ro = <usize>i * rowBytes;
    for (let c0 = 0; c0 < c; c0 += 4) {
      const co = <usize>c0 << 2;
      let r = f32x4.add(f32x4.mul(v128.load(a + co), v128.load(u + ro + co)), v128.load(d + co));
      if (v != 0) r = f32x4.add(r, f32x4.mul(v128.load(b + co), v128.load(v + ro + co)));
      v128.store(out + ro + co, r);
    }
  }
}

/**
 * Backward of y = relu(maxpool2x2/2(x)) (VALID): dx gets dy at the first maximum of each window
 * whose output is positive; zero elsewhere. x, dx: [n, h, w, c]; y, dy: [n, h/2, w/2, c].
 * The host zeroes dx beforehand when h or w is odd.
 */
export function poolReluBackward(x: usize, y: usize, dy: usize, dx: usize, n: i32, h: i32, w: i32, c: i32): void {
  const oh = h >> 1;
  const ow = w >> 1;
  const cb = <usize>c << 2;
  const rowB = <usize>w * cb;
  const zero = f32x4.splat(0);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((<usize>(b * oh + oy) * <usize>ow) + <usize>ox) * cb;
        const i00 = ((<usize>(b * h + 2 * oy) * <usize>w) + <usize>(2 * ox)) * cb;
        const i01 = i00 + cb;
        const i10 = i00 + rowB;
        const i11 = i10 + cb;
        for (let k: usize = 0; k < cb; k += 16) {
          const yv = v128.load(y + o + k);
          const g = v128.and(v128.load(dy + o + k), f32x4.gt(yv, zero));
          const e00 = f32x4.eq(v128.load(x + i00 + k), yv);
          const e01 = v128.andnot(f32x4.eq(v128.load(x + i01 + k), yv), e00);
          const t1 = v128.or(e00, e01);
          const e10 = v128.andnot(f32x4.eq(v128.load(x + i10 + k), yv), t1);
          const e11 = v128.andnot(v128.not(v128.or(t1, e10)), zero);
          v128.store(dx + i00 + k, v128.and(g, e00));
          v128.store(dx + i01 + k, v128.and(g, e01));
          v128.store(dx + i10 + k, v128.and(g, e10));
          v128.store(dx + i11 + k, v128.and(g, e11));
        }
      }
    }
  }
}

// Kennel's training kernels for the TensorFlow.js WebAssembly backend, in AssemblyScript with
// 128-bit SIMD. Built by `npm run build:kernels`; the compiled .wasm is never committed.
//
// Everything is one "gathered GEMM":  C[m, n] += sum_r  src[rowOff[m] + colOff[r]] * B[r, n]
// The gather tables turn a convolution into a matrix product without materialising im2col:
//  - conv forward / backprop-input: m = output pixel, r = (tap, channel), B = weights [r, n];
//  - backprop-filter:                m = (tap, channel), r = pixel,       B = dy [pixel, n].
// All pointers and table entries are BYTE offsets into this module's memory, which the host
// (TypeScript) lays out: the host pads M to a multiple of 4 and N to a multiple of 8.

// acc + a·b. The relaxed-simd build fuses it into one instruction (an FMA on x86-64 with FMA3 and
// on arm64; engines without one compute mul then add): ~15 % less time a served image on an FMA
// host; results differ from the simd build in the rounding of each product (see kernel-variant.ts).
@inline function fma(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * C[M, Np] += A·B with A gathered as described above. m % 4 == 0, np % 8 == 0.
 * rBlock bounds the slice of B kept hot in cache while every row tile of C sweeps it.
 */
export function gemmGather(src: usize, rowOff: usize, colOff: usize, b: usize, c: usize, m: i32, r: i32, np: i32, rBlock: i32): void {
  gemm(src, rowOff, colOff, b, c, m, r, np, rBlock, 0, 0, 1);
}

/**
 * The inference form of {@link gemmGather}: C[M, Np] = act(A·B + bias) written once, with no
 * zeroed accumulator to read. The first r-block starts from `bias` (Np floats; 0 for none), later
 * blocks accumulate onto C, and the last one applies ReLU when `relu` is 1 and ReLU6 when it is 2. Saves the zero fill,
 * the read of C in the first block and a separate bias/activation pass over the output, which
 * dominate when r is small (a first convolution over RGB has r = 27).
 */
export function gemmGatherBiasAct(src: usize, rowOff: usize, colOff: usize, b: usize, c: usize, m: i32, r: i32, np: i32, rBlock: i32, bias: usize, relu: i32): void {
  gemm(src, rowOff, colOff, b, c, m, r, np, rBlock, bias, relu, 0);
}

/**
 * The dense inference form for 1×1 convolutions run in place on the TensorFlow.js heap: row i of
 * A starts at `src + i * ldaBytes` (no row table), `colOff` is the identity table (r → 4r), and
 * m may be any count (the last tile stores only its valid rows, so C needs exactly m rows).
 */
export function gemmDenseBiasAct(src: usize, ldaBytes: usize, colOff: usize, b: usize, c: usize, m: i32, r: i32, np: i32, rBlock: i32, bias: usize, relu: i32): void {
  gemm(src, 0, colOff, b, c, m, r, np, rBlock, bias, relu, 0, ldaBytes);
}

/**
 * The one microkernel: C = act(A·B + bias), or C += A·B when `accumulate` is 1. Rows of A come
 * from the `rowOff` table, or, when `ldaBytes` is not 0, at that stride (rows past m repeat the
 * last one and are not stored).
 */
@inline function gemm(src: usize, rowOff: usize, colOff: usize, b: usize, c: usize, m: i32, r: i32, np: i32, rBlock: i32, bias: usize, relu: i32, accumulate: i32, ldaBytes: usize = 0): void {
  const rowBytes = <usize>np << 2;
  const zeroV = f32x4.splat(0);
  const lastRow = m - 1;
  for (let r0 = 0; r0 < r; r0 += rBlock) {
    const r1 = min(r0 + rBlock, r);
    const first = r0 == 0;
    const last = r1 == r;
    for (let n0 = 0; n0 < np; n0 += 8) {
      const bias0 = bias != 0 ? v128.load(bias + (<usize>n0 << 2)) : zeroV;
      const bias1 = bias != 0 ? v128.load(bias + (<usize>n0 << 2), 16) : zeroV;
      for (let m0 = 0; m0 < m; m0 += 4) {
        const i1 = <usize>min(m0 + 1, lastRow);
        const i2 = <usize>min(m0 + 2, lastRow);
        const i3 = <usize>min(m0 + 3, lastRow);
        let s0: usize, s1: usize, s2: usize, s3: usize;
        if (ldaBytes != 0) {
          s0 = src + <usize>m0 * ldaBytes;
          s1 = src + i1 * ldaBytes;
          s2 = src + i2 * ldaBytes;
          s3 = src + i3 * ldaBytes;
        } else {
          const ro = rowOff + (<usize>m0 << 2);
          s0 = src + <usize>load<i32>(ro);
          s1 = src + <usize>load<i32>(ro, 4);
          s2 = src + <usize>load<i32>(ro, 8);
          s3 = src + <usize>load<i32>(ro, 12);
        }
        const col = <usize>n0 << 2;
        const c0 = c + <usize>m0 * rowBytes + col;
        const c1 = c + i1 * rowBytes + col;
        const c2 = c + i2 * rowBytes + col;
        const c3 = c + i3 * rowBytes + col;
        let a00 = bias0;
        let a01 = bias1;
        let a10 = bias0;
        let a11 = bias1;
        let a20 = bias0;
        let a21 = bias1;
        let a30 = bias0;
        let a31 = bias1;
        if (!first || accumulate != 0) {
          a00 = v128.load(c0);
          a01 = v128.load(c0, 16);
          a10 = v128.load(c1);
          a11 = v128.load(c1, 16);
          a20 = v128.load(c2);
          a21 = v128.load(c2, 16);
          a30 = v128.load(c3);
          a31 = v128.load(c3, 16);
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
          if (relu == 2) {
            const six = f32x4.splat(6);
            a00 = f32x4.min(a00, six);
            a01 = f32x4.min(a01, six);
            a10 = f32x4.min(a10, six);
            a11 = f32x4.min(a11, six);
            a20 = f32x4.min(a20, six);
            a21 = f32x4.min(a21, six);
            a30 = f32x4.min(a30, six);
            a31 = f32x4.min(a31, six);
          }
        }
        // A tail tile's rows past m repeat the last row's reads and are not stored.
        if (m0 + 3 <= lastRow) {
          v128.store(c3, a30);
          v128.store(c3, a31, 16);
        }
        if (m0 + 2 <= lastRow) {
          v128.store(c2, a20);
          v128.store(c2, a21, 16);
        }
        if (m0 + 1 <= lastRow) {
          v128.store(c1, a10);
          v128.store(c1, a11, 16);
        }
        v128.store(c0, a00);
        v128.store(c0, a01, 16);
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

// ---- Winograd F(2×2, 3×3): 3×3 stride-1 convolutions with 16 multiplies per 2×2 output tile
// instead of 36 (Lavin & Gray, 2015). Tiles are numbered t = (b·tilesY + ty)·tilesX + tx; a
// call handles tiles [t0, t0 + count). V and M hold one chunk: [16][count4][channels], count4 =
// count rounded up to 4 (the GEMM's row tile), the extra rows zero or ignored.

/**
 * V[ξ, t, c] = (Bᵀ·d·B)[ξ] for each 4×4 input window d at (2ty, 2tx) of the padded input
 * xp [batch, hp, wp, c] (c % 4 == 0; the host pads so every window is in range).
 */
export function winogradInput(xp: usize, v: usize, hp: i32, wp: i32, c: i32, tilesY: i32, tilesX: i32, t0: i32, count: i32, count4: i32): void {
  const cb = <usize>c << 2;
  const rowB = <usize>wp * cb;
  const plane = <usize>count4 * cb; // bytes of one ξ slice of V
  const perImage = tilesY * tilesX;
  for (let i = 0; i < count; i++) {
    const t = t0 + i;
    const b = t / perImage;
    const rem = t - b * perImage;
    const ty = rem / tilesX;
    const tx = rem - ty * tilesX;
    const base = xp + ((<usize>(b * hp + 2 * ty) * <usize>wp) + <usize>(2 * tx)) * cb;
    const out = v + <usize>i * cb;
    for (let k: usize = 0; k < cb; k += 16) {
      // Rows: r_i = (Bᵀ d) row i, computed column by column.
      const p0 = base + k;
      const p1 = p0 + rowB;
      const p2 = p1 + rowB;
      const p3 = p2 + rowB;
      const d00 = v128.load(p0), d01 = v128.load(p0 + cb), d02 = v128.load(p0 + 2 * cb), d03 = v128.load(p0 + 3 * cb);
      const d10 = v128.load(p1), d11 = v128.load(p1 + cb), d12 = v128.load(p1 + 2 * cb), d13 = v128.load(p1 + 3 * cb);
      const d20 = v128.load(p2), d21 = v128.load(p2 + cb), d22 = v128.load(p2 + 2 * cb), d23 = v128.load(p2 + 3 * cb);
      const d30 = v128.load(p3), d31 = v128.load(p3 + cb), d32 = v128.load(p3 + 2 * cb), d33 = v128.load(p3 + 3 * cb);
      // Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] applied to rows.
      const r00 = f32x4.sub(d00, d20), r01 = f32x4.sub(d01, d21), r02 = f32x4.sub(d02, d22), r03 = f32x4.sub(d03, d23);
      const r10 = f32x4.add(d10, d20), r11 = f32x4.add(d11, d21), r12 = f32x4.add(d12, d22), r13 = f32x4.add(d13, d23);
      const r20 = f32x4.sub(d20, d10), r21 = f32x4.sub(d21, d11), r22 = f32x4.sub(d22, d12), r23 = f32x4.sub(d23, d13);
      const r30 = f32x4.sub(d10, d30), r31 = f32x4.sub(d11, d31), r32 = f32x4.sub(d12, d32), r33 = f32x4.sub(d13, d33);
      // … then B applied to columns.
      const o = out + k;
      storeRow(o, plane, 0, r00, r01, r02, r03);
      storeRow(o, plane, 4, r10, r11, r12, r13);
      storeRow(o, plane, 8, r20, r21, r22, r23);
      storeRow(o, plane, 12, r30, r31, r32, r33);
    }
  }
}

@inline function storeRow(o: usize, plane: usize, xi: i32, a0: v128, a1: v128, a2: v128, a3: v128): void {
  const p = o + <usize>xi * plane;
  v128.store(p, f32x4.sub(a0, a2));
  v128.store(p + plane, f32x4.add(a1, a2));
  v128.store(p + 2 * plane, f32x4.sub(a2, a1));
  v128.store(p + 3 * plane, f32x4.sub(a1, a3));
}

/**
 * out[b, 2ty + i, 2tx + j, :] = act((Aᵀ·M·A)[i, j] + bias) for each tile, M [16][count4][np];
 * out is [batch, oh, ow, np] and rows/columns past oh/ow are dropped. np % 4 == 0; bias 0 = none.
 */
export function winogradOutput(m: usize, out: usize, bias: usize, relu: i32, oh: i32, ow: i32, np: i32, tilesY: i32, tilesX: i32, t0: i32, count: i32, count4: i32): void {
  const cb = <usize>np << 2;
  const plane = <usize>count4 * cb;
  const rowB = <usize>ow * cb;
  const perImage = tilesY * tilesX;
  const zeroV = f32x4.splat(0);
  for (let i = 0; i < count; i++) {
    const t = t0 + i;
    const b = t / perImage;
    const rem = t - b * perImage;
    const ty = rem / tilesX;
    const tx = rem - ty * tilesX;
    const y0 = 2 * ty;
    const x0 = 2 * tx;
    const hasY1 = y0 + 1 < oh;
    const hasX1 = x0 + 1 < ow;
    const dst = out + ((<usize>(b * oh + y0) * <usize>ow) + <usize>x0) * cb;
    const src = m + <usize>i * cb;
    for (let k: usize = 0; k < cb; k += 16) {
      const s = src + k;
      // Aᵀ = [1 1 1 0; 0 1 -1 -1] over the 4 rows of each column, then over the columns.
      const m0 = v128.load(s), m1 = v128.load(s + plane), m2 = v128.load(s + 2 * plane), m3 = v128.load(s + 3 * plane);
      const m4 = v128.load(s + 4 * plane), m5 = v128.load(s + 5 * plane), m6 = v128.load(s + 6 * plane), m7 = v128.load(s + 7 * plane);
      const m8 = v128.load(s + 8 * plane), m9 = v128.load(s + 9 * plane), m10 = v128.load(s + 10 * plane), m11 = v128.load(s + 11 * plane);
      const m12 = v128.load(s + 12 * plane), m13 = v128.load(s + 13 * plane), m14 = v128.load(s + 14 * plane), m15 = v128.load(s + 15 * plane);
      // Row combination: u = rows0+1+2, w = rows1-2-3, per column j.
      const u0 = f32x4.add(f32x4.add(m0, m4), m8), u1 = f32x4.add(f32x4.add(m1, m5), m9);
      const u2 = f32x4.add(f32x4.add(m2, m6), m10), u3 = f32x4.add(f32x4.add(m3, m7), m11);
      const w0 = f32x4.sub(f32x4.sub(m4, m8), m12), w1 = f32x4.sub(f32x4.sub(m5, m9), m13);
      const w2 = f32x4.sub(f32x4.sub(m6, m10), m14), w3 = f32x4.sub(f32x4.sub(m7, m11), m15);
      const bv = bias != 0 ? v128.load(bias + k) : zeroV;
      let y00 = f32x4.add(f32x4.add(f32x4.add(u0, u1), u2), bv);
      let y01 = f32x4.add(f32x4.sub(f32x4.sub(u1, u2), u3), bv);
      let y10 = f32x4.add(f32x4.add(f32x4.add(w0, w1), w2), bv);
      let y11 = f32x4.add(f32x4.sub(f32x4.sub(w1, w2), w3), bv);
      if (relu != 0) {
        y00 = f32x4.max(y00, zeroV);
        y01 = f32x4.max(y01, zeroV);
        y10 = f32x4.max(y10, zeroV);
        y11 = f32x4.max(y11, zeroV);
        if (relu == 2) {
          const six = f32x4.splat(6);
          y00 = f32x4.min(y00, six);
          y01 = f32x4.min(y01, six);
          y10 = f32x4.min(y10, six);
          y11 = f32x4.min(y11, six);
        }
      }
      const d = dst + k;
      v128.store(d, y00);
      if (hasX1) v128.store(d + cb, y01);
      if (hasY1) {
        v128.store(d + rowB, y10);
        if (hasX1) v128.store(d + rowB + cb, y11);
      }
    }
  }
}

// ---- depthwise convolution gradients (channel multiplier 1): SIMD over channels, c % 4 == 0 ----
// xp / dxp are padded [batch, hp, wp, c] images whose (0, 0) is the top-left of the first window;
// dy is [batch, oh, ow, c]; the filter is [fh, fw, c].

/** dw[ky, kx, :] = Σ_{b, oy, ox} xp[b, oy·sy + ky, ox·sx + kx, :] · dy[b, oy, ox, :]. */
export function depthwiseFilterGrad(xp: usize, dy: usize, dw: usize, batch: i32, oh: i32, ow: i32, sy: i32, sx: i32, hp: i32, wp: i32, fh: i32, fw: i32, c: i32): void {
  const cb = <usize>c << 2;
  memory.fill(dw, 0, <usize>(fh * fw) * cb);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const d = dy + <usize>((b * oh + oy) * ow + ox) * cb;
        const base = xp + <usize>((b * hp + oy * sy) * wp + ox * sx) * cb;
        for (let ky = 0; ky < fh; ky++) {
          for (let kx = 0; kx < fw; kx++) {
            const xs = base + <usize>(ky * wp + kx) * cb;
            const ws = dw + <usize>(ky * fw + kx) * cb;
            for (let k: usize = 0; k < cb; k += 16) {
              v128.store(ws + k, f32x4.add(v128.load(ws + k), f32x4.mul(v128.load(xs + k), v128.load(d + k))));
            }
          }
        }
      }
    }
  }
}

/** dxp[b, oy·sy + ky, ox·sx + kx, :] += dy[b, oy, ox, :] · w[ky, kx, :] (dxp zeroed first). */
export function depthwiseInputGrad(dy: usize, w: usize, dxp: usize, batch: i32, oh: i32, ow: i32, sy: i32, sx: i32, hp: i32, wp: i32, fh: i32, fw: i32, c: i32): void {
  const cb = <usize>c << 2;
  memory.fill(dxp, 0, <usize>(batch * hp * wp) * cb);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const d = dy + <usize>((b * oh + oy) * ow + ox) * cb;
        const base = dxp + <usize>((b * hp + oy * sy) * wp + ox * sx) * cb;
        for (let ky = 0; ky < fh; ky++) {
          for (let kx = 0; kx < fw; kx++) {
            const xs = base + <usize>(ky * wp + kx) * cb;
            const ws = w + <usize>(ky * fw + kx) * cb;
            for (let k: usize = 0; k < cb; k += 16) {
              v128.store(xs + k, f32x4.add(v128.load(xs + k), f32x4.mul(v128.load(d + k), v128.load(ws + k))));
            }
          }
        }
      }
    }
  }
}

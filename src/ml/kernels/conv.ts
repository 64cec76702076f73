import { activationCode, type ConvActivation, type KernelModule } from './kernel-module.js';

/**
 * Geometry of a 2-D convolution, NHWC activations and HWIO filters, dilation 1 (the fields of
 * TensorFlow.js's Conv2DInfo that the kernels use).
 */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;
/** Rows of B swept per block: keeps the B slice of one column tile in L1. */
const R_BLOCK = 256;

/**
 * Copies NHWC `data` ([batch, h, w, c]) into module memory as [batch, hp, wp, c], zero elsewhere,
 * element (y, x) landing at (top + y*sy, left + x*sx); out-of-range elements are dropped.
 * Returns the byte offset.
 */
function placePadded(
  mod: KernelModule,
  data: Float32Array,
  g: { batch: number; h: number; w: number; c: number; hp: number; wp: number; top: number; left: number; sy: number; sx: number },
): number {
  const total = g.batch * g.hp * g.wp * g.c;
  const ptr = mod.alloc(total * 4);
  const dst = mod.f32(ptr, total);
  dst.fill(0);
  const rowLen = g.w * g.c;
  for (let b = 0; b < g.batch; b++) {
    for (let y = 0; y < g.h; y++) {
      const py = g.top + y * g.sy;
      if (py < 0 || py >= g.hp) continue;
      const srcRow = (b * g.h + y) * rowLen;
      const dstRow = (b * g.hp + py) * g.wp;
      if (g.sx === 1 && g.left >= 0 && g.left + g.w <= g.wp) {
        dst.set(data.subarray(srcRow, srcRow + rowLen), (dstRow + g.left) * g.c);
        continue;
      }
      for (let x = 0; x < g.w; x++) {
        const px = g.left + x * g.sx;
        if (px < 0 || px >= g.wp) continue;
        dst.set(data.subarray(srcRow + x * g.c, srcRow + (x + 1) * g.c), (dstRow + px) * g.c);
      }
    }
  }
  return ptr;
}

/** Copies a [rows, cols] matrix into module memory as [rows, colsPadded] (zero padding). */
function placeColumnsPadded(mod: KernelModule, data: Float32Array, rows: number, cols: number, colsPadded: number): number {
  const ptr = mod.alloc(rows * colsPadded * 4);
  const dst = mod.f32(ptr, rows * colsPadded);
  if (cols === colsPadded) {
    dst.set(data.subarray(0, rows * cols));
    return ptr;
  }
  dst.fill(0);
  for (let r = 0; r < rows; r++) dst.set(data.subarray(r * cols, (r + 1) * cols), r * colsPadded);
  return ptr;
}

/** Allocates a zeroed [rows, np] accumulator. */
function allocZeroed(mod: KernelModule, rows: number, np: number): number {
  const ptr = mod.alloc(rows * np * 4);
  mod.f32(ptr, rows * np).fill(0);
  return ptr;
}

/** Reads a [rows, np] result back into a dense [rows, cols] array (e.g. a view of the backend's heap). */
function readColumns(mod: KernelModule, ptr: number, rows: number, cols: number, np: number, out: Float32Array): void {
  const src = mod.f32(ptr, rows * np);
  if (cols === np) {
    out.set(src.subarray(0, rows * cols));
    return;
  }
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * np, r * np + cols), r * cols);
}

/** Byte offsets of the (tap, channel) pairs of a filter over an image of row width `wp`. */
function tapOffsets(mod: KernelModule, fh: number, fw: number, channels: number, wp: number, padTo: number): number {
  const n = fh * fw * channels;
  const ptr = mod.alloc(roundUp(n, padTo) * 4);
  const t = mod.i32(ptr, roundUp(n, padTo));
  t.fill(0);
  let i = 0;
  for (let kh = 0; kh < fh; kh++) for (let kw = 0; kw < fw; kw++) for (let c = 0; c < channels; c++) t[i++] = ((kh * wp + kw) * channels + c) * 4;
  return ptr;
}

/** Byte offsets of each output position's window origin: ((b*hp + oy*sy)*wp + ox*sx)*c. */
function pixelOffsets(mod: KernelModule, batch: number, oh: number, ow: number, sy: number, sx: number, hp: number, wp: number, c: number, padTo: number): number {
  const n = batch * oh * ow;
  const len = roundUp(n, padTo);
  const ptr = mod.alloc(len * 4);
  const t = mod.i32(ptr, len);
  t.fill(0);
  let i = 0;
  for (let b = 0; b < batch; b++) for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) t[i++] = ((b * hp + y * sy) * wp + x * sx) * c * 4;
  return ptr;
}

/**
 * dW = ∂L/∂filter: x [batch, inH, inW, inC], dy [batch, outH, outW, outC] → [fH, fW, inC, outC].
 * A GEMM over all output pixels: dW[(tap, ci), co] = Σ_p x[window(p) + tap, ci] · dy[p, co].
 */
export function conv2dBackpropFilter(mod: KernelModule, x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array = new Float32Array(g.filterHeight * g.filterWidth * g.inChannels * g.outChannels)): Float32Array {
  mod.reset();
  const hp = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const wp = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  const xp = placePadded(mod, x, { batch: g.batchSize, h: g.inHeight, w: g.inWidth, c: g.inChannels, hp, wp, top: g.padTop, left: g.padLeft, sy: 1, sx: 1 });
  const pixels = g.batchSize * g.outHeight * g.outWidth;
  const np = roundUp(g.outChannels, 8);
  const dyp = placeColumnsPadded(mod, dy, pixels, g.outChannels, np);
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const mp = roundUp(k, 4);
  const rowOff = tapOffsets(mod, g.filterHeight, g.filterWidth, g.inChannels, wp, 4);
  const colOff = pixelOffsets(mod, g.batchSize, g.outHeight, g.outWidth, g.strideHeight, g.strideWidth, hp, wp, g.inChannels, 1);
  const c = allocZeroed(mod, mp, np);
  mod.gemmGather(xp, rowOff, colOff, dyp, c, mp, pixels, np, R_BLOCK);
  readColumns(mod, c, k, g.outChannels, np, out);
  return out;
}

/**
 * dx = ∂L/∂input: dy [batch, outH, outW, outC], filter [fH, fW, inC, outC] → [batch, inH, inW, inC].
 * The transposed convolution: dy is spread out by the strides, padded by (filter − 1 − pad), and
 * convolved with the filter flipped in space and transposed in channels. Needs pad ≤ filter − 1.
 */
export function conv2dBackpropInput(mod: KernelModule, dy: Float32Array, filter: Float32Array, g: ConvGeometry, out: Float32Array = new Float32Array(g.batchSize * g.inHeight * g.inWidth * g.inChannels)): Float32Array {
  const top = g.filterHeight - 1 - g.padTop;
  const left = g.filterWidth - 1 - g.padLeft;
  if (top < 0 || left < 0) throw new RangeError('conv2dBackpropInput: padding larger than filter - 1 is not supported');
  mod.reset();
  const hd = g.inHeight + g.filterHeight - 1;
  const wd = g.inWidth + g.filterWidth - 1;
  const dyp = placePadded(mod, dy, {
    batch: g.batchSize, h: g.outHeight, w: g.outWidth, c: g.outChannels, hp: hd, wp: wd, top, left, sy: g.strideHeight, sx: g.strideWidth,
  });
  const np = roundUp(g.inChannels, 8);
  const r = g.filterHeight * g.filterWidth * g.outChannels;
  // B[(kh', kw', co), ci] = W[fH-1-kh', fW-1-kw', ci, co]
  const bPtr = mod.alloc(r * np * 4);
  const bm = mod.f32(bPtr, r * np);
  bm.fill(0);
  const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = g;
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const srcTap = ((fh - 1 - kh) * fw + (fw - 1 - kw)) * ci * co;
      const dstTap = (kh * fw + kw) * co;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) bm[(dstTap + o) * np + i] = filter[srcTap + i * co + o] as number;
    }
  }
  const pixels = g.batchSize * g.inHeight * g.inWidth;
  const mp = roundUp(pixels, 4);
  const rowOff = pixelOffsets(mod, g.batchSize, g.inHeight, g.inWidth, 1, 1, hd, wd, co, 4);
  const colOff = tapOffsets(mod, fh, fw, co, wd, 1);
  const c = allocZeroed(mod, mp, np);
  mod.gemmGather(dyp, rowOff, colOff, bPtr, c, mp, r, np, R_BLOCK);
  readColumns(mod, c, pixels, ci, np, out);
  return out;
}

/** What a forward convolution adds after the product: a per-channel bias and/or an activation. */
export interface ConvEpilogue {
  /** outChannels floats added to every output pixel. */
  readonly bias?: Float32Array;
  /** Default 'linear'. */
  readonly activation?: ConvActivation;
}

/**
 * y = act(conv(x, filter) + bias): x [batch, inH, inW, inC], filter [fH, fW, inC, outC] →
 * [batch, outH, outW, outC]. The bias and activation are applied inside the GEMM as each output tile
 * is stored, so the output is written once.
 */
export function conv2dForward(
  mod: KernelModule,
  x: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
  out: Float32Array = new Float32Array(g.batchSize * g.outHeight * g.outWidth * g.outChannels),
  epilogue: ConvEpilogue = {},
): Float32Array {
  mod.reset();
  const hp = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const wp = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  const xp = placePadded(mod, x, { batch: g.batchSize, h: g.inHeight, w: g.inWidth, c: g.inChannels, hp, wp, top: g.padTop, left: g.padLeft, sy: 1, sx: 1 });
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const np = roundUp(g.outChannels, 8);
  const bPtr = placeColumnsPadded(mod, filter, k, g.outChannels, np);
  const biasPtr = epilogue.bias ? placeColumnsPadded(mod, epilogue.bias, 1, g.outChannels, np) : 0;
  const pixels = g.batchSize * g.outHeight * g.outWidth;
  const mp = roundUp(pixels, 4);
  const rowOff = pixelOffsets(mod, g.batchSize, g.outHeight, g.outWidth, g.strideHeight, g.strideWidth, hp, wp, g.inChannels, 4);
  const colOff = tapOffsets(mod, g.filterHeight, g.filterWidth, g.inChannels, wp, 1);
  const c = mod.alloc(mp * np * 4);
  mod.gemmGatherBiasAct(xp, rowOff, colOff, bPtr, c, mp, k, np, R_BLOCK, biasPtr, epilogue.activation ?? 'linear');
  readColumns(mod, c, pixels, g.outChannels, np, out);
  return out;
}

/** Whether {@link conv2dForwardWinograd} computes this convolution (3×3, stride 1, inC % 4 == 0). */
export function winogradApplies(g: ConvGeometry): boolean {
  return g.filterHeight === 3 && g.filterWidth === 3 && g.strideHeight === 1 && g.strideWidth === 1 && g.inChannels % 4 === 0 && g.inChannels >= 8;
}

/**
 * The filter in the Winograd domain, U[ξ] = G·g·Gᵀ for every (inC, outC) pair, laid out
 * [16][inC][np] with np = outC rounded up to 8 (zero padded): the B matrices of the 16 GEMMs.
 * filter is HWIO [3, 3, inC, outC]. Compute once per filter and pass it to every call.
 */
export function winogradFilter(filter: Float32Array, inC: number, outC: number): Float32Array {
  const np = roundUp(outC, 8);
  const u = new Float32Array(16 * inC * np);
  // Rows of G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1] applied to a 3-vector (a, b, c).
  const g0 = (a: number, _b: number, _c: number): number => a;
  const g1 = (a: number, b: number, c: number): number => 0.5 * (a + b + c);
  const g2 = (a: number, b: number, c: number): number => 0.5 * (a - b + c);
  const g3 = (_a: number, _b: number, c: number): number => c;
  const rows = [g0, g1, g2, g3] as const;
  const tap = new Float64Array(9);
  const t = new Float64Array(12); // G·g: 4×3
  for (let ci = 0; ci < inC; ci++) {
    for (let co = 0; co < outC; co++) {
      for (let k = 0; k < 9; k++) tap[k] = filter[(k * inC + ci) * outC + co] as number;
      for (let i = 0; i < 4; i++) {
        const gi = rows[i] as (typeof rows)[number];
        for (let j = 0; j < 3; j++) t[i * 3 + j] = gi(tap[j] as number, tap[3 + j] as number, tap[6 + j] as number);
      }
      for (let i = 0; i < 4; i++) {
        const a = t[i * 3] as number;
        const b = t[i * 3 + 1] as number;
        const c = t[i * 3 + 2] as number;
        for (let j = 0; j < 4; j++) u[((i * 4 + j) * inC + ci) * np + co] = (rows[j] as (typeof rows)[number])(a, b, c);
      }
    }
  }
  return u;
}

/** Bytes of V and M one Winograd chunk may use: about what stays in a core's L2 cache. */
const WINOGRAD_CHUNK_BYTES = 512 * 1024;

/**
 * y = act(conv3×3(x) + bias) for stride 1 by Winograd F(2×2, 3×3): per 2×2 output tile, 16
 * multiplies per channel pair instead of 36. `u` is {@link winogradFilter}'s output. The tiles
 * are processed in chunks sized so the transformed input and the products stay in cache.
 */
export function conv2dForwardWinograd(
  mod: KernelModule,
  x: Float32Array,
  u: Float32Array,
  g: ConvGeometry,
  out: Float32Array = new Float32Array(g.batchSize * g.outHeight * g.outWidth * g.outChannels),
  epilogue: ConvEpilogue = {},
): Float32Array {
  if (!winogradApplies(g)) throw new RangeError('conv2dForwardWinograd: needs a 3×3 filter, stride 1 and inC % 4 == 0');
  mod.reset();
  const ci = g.inChannels;
  const np = roundUp(g.outChannels, 8);
  const tilesY = Math.ceil(g.outHeight / 2);
  const tilesX = Math.ceil(g.outWidth / 2);
  const hp = 2 * tilesY + 2;
  const wp = 2 * tilesX + 2;
  const xp = placePadded(mod, x, { batch: g.batchSize, h: g.inHeight, w: g.inWidth, c: ci, hp, wp, top: g.padTop, left: g.padLeft, sy: 1, sx: 1 });
  const uPtr = mod.put(u);
  const biasPtr = epilogue.bias ? placeColumnsPadded(mod, epilogue.bias, 1, g.outChannels, np) : 0;
  const tiles = g.batchSize * tilesY * tilesX;
  const chunk = Math.max(16, Math.min(roundUp(tiles, 4), Math.floor(WINOGRAD_CHUNK_BYTES / (16 * 4 * (ci + np)) / 4) * 4));
  const vPtr = mod.alloc(16 * chunk * ci * 4);
  const mPtr = mod.alloc(16 * chunk * np * 4);
  const rowOff = mod.alloc(chunk * 4);
  const rows = mod.i32(rowOff, chunk);
  for (let t = 0; t < chunk; t++) rows[t] = t * ci * 4;
  const colOff = mod.alloc(ci * 4);
  const cols = mod.i32(colOff, ci);
  for (let c = 0; c < ci; c++) cols[c] = c * 4;
  const yPtr = mod.alloc(g.batchSize * g.outHeight * g.outWidth * np * 4);
  const k = mod.kernels;
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const count = Math.min(chunk, tiles - t0);
    const count4 = roundUp(count, 4);
    k.winogradInput(xp, vPtr, hp, wp, ci, tilesY, tilesX, t0, count, count4);
    for (let xi = 0; xi < 16; xi++) {
      mod.gemmGatherBiasAct(vPtr + xi * count4 * ci * 4, rowOff, colOff, uPtr + xi * ci * np * 4, mPtr + xi * count4 * np * 4, count4, ci, np, R_BLOCK, 0, 'linear');
    }
    k.winogradOutput(mPtr, yPtr, biasPtr, activationCode(epilogue.activation ?? 'linear'), g.outHeight, g.outWidth, np, tilesY, tilesX, t0, count, count4);
  }
  readColumns(mod, yPtr, g.batchSize * g.outHeight * g.outWidth, g.outChannels, np, out);
  return out;
}

import type { KernelModule } from './kernel-module.js';

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

/** What a forward convolution adds after the product: a per-channel bias and/or ReLU. */
export interface ConvEpilogue {
  /** outChannels floats added to every output pixel. */
  readonly bias?: Float32Array;
  readonly relu?: boolean;
}

/**
 * y = act(conv(x, filter) + bias): x [batch, inH, inW, inC], filter [fH, fW, inC, outC] →
 * [batch, outH, outW, outC]. The bias and ReLU are applied inside the GEMM as each output tile
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
  mod.gemmGatherBiasAct(xp, rowOff, colOff, bPtr, c, mp, k, np, R_BLOCK, biasPtr, epilogue.relu ?? false);
  readColumns(mod, c, pixels, g.outChannels, np, out);
  return out;
}

import type { ConvGeometry } from './conv.js';
import type { KernelModule } from './kernel-module.js';

/**
 * Gradients of a depthwise convolution with channel multiplier 1 (MobileNet's), NHWC, dilation 1:
 * the kernels the stock WebAssembly backend lacks. In a depthwise geometry inChannels ==
 * outChannels == c and the filter is [fH, fW, c, 1]. Channels are padded to a multiple of 4 in
 * module memory so the SIMD loops need no tail.
 */

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

interface Layout {
  readonly c4: number;
  readonly hp: number;
  readonly wp: number;
}

function layout(g: ConvGeometry): Layout {
  if (g.inChannels !== g.outChannels) throw new RangeError('depthwise gradients support channel multiplier 1 only');
  return {
    c4: roundUp(g.inChannels, 4),
    hp: Math.max((g.outHeight - 1) * g.strideHeight + g.filterHeight, g.padTop + g.inHeight),
    wp: Math.max((g.outWidth - 1) * g.strideWidth + g.filterWidth, g.padLeft + g.inWidth),
  };
}

/** Copies [rows, c] (row = one pixel) into module memory as [rows, c4], zero padded. */
function placeChannels(mod: KernelModule, data: Float32Array, rows: number, c: number, c4: number): number {
  const ptr = mod.alloc(rows * c4 * 4);
  const dst = mod.f32(ptr, rows * c4);
  if (c === c4) {
    dst.set(data.subarray(0, rows * c));
    return ptr;
  }
  dst.fill(0);
  for (let r = 0; r < rows; r++) dst.set(data.subarray(r * c, (r + 1) * c), r * c4);
  return ptr;
}

/** ∂L/∂filter: x [batch, inH, inW, c], dy [batch, outH, outW, c] → [fH, fW, c, 1]. */
export function depthwiseBackpropFilter(mod: KernelModule, x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array = new Float32Array(g.filterHeight * g.filterWidth * g.inChannels)): Float32Array {
  const { c4, hp, wp } = layout(g);
  const c = g.inChannels;
  mod.reset();
  const xp = mod.alloc(g.batchSize * hp * wp * c4 * 4);
  const padded = mod.f32(xp, g.batchSize * hp * wp * c4);
  padded.fill(0);
  for (let b = 0; b < g.batchSize; b++) {
    for (let y = 0; y < g.inHeight; y++) {
      for (let xx = 0; xx < g.inWidth; xx++) {
        const src = ((b * g.inHeight + y) * g.inWidth + xx) * c;
        padded.set(x.subarray(src, src + c), ((b * hp + y + g.padTop) * wp + xx + g.padLeft) * c4);
      }
    }
  }
  const pixels = g.batchSize * g.outHeight * g.outWidth;
  const dyp = placeChannels(mod, dy, pixels, c, c4);
  const taps = g.filterHeight * g.filterWidth;
  const dw = mod.alloc(taps * c4 * 4);
  mod.kernels.depthwiseFilterGrad(xp, dyp, dw, g.batchSize, g.outHeight, g.outWidth, g.strideHeight, g.strideWidth, hp, wp, g.filterHeight, g.filterWidth, c4);
  const res = mod.f32(dw, taps * c4);
  for (let t = 0; t < taps; t++) out.set(res.subarray(t * c4, t * c4 + c), t * c);
  return out;
}

/** ∂L/∂x: dy [batch, outH, outW, c], filter [fH, fW, c, 1] → [batch, inH, inW, c]. */
export function depthwiseBackpropInput(mod: KernelModule, dy: Float32Array, filter: Float32Array, g: ConvGeometry, out: Float32Array = new Float32Array(g.batchSize * g.inHeight * g.inWidth * g.inChannels)): Float32Array {
  const { c4, hp, wp } = layout(g);
  const c = g.inChannels;
  mod.reset();
  const pixels = g.batchSize * g.outHeight * g.outWidth;
  const dyp = placeChannels(mod, dy, pixels, c, c4);
  const w = placeChannels(mod, filter, g.filterHeight * g.filterWidth, c, c4);
  const dxp = mod.alloc(g.batchSize * hp * wp * c4 * 4);
  mod.kernels.depthwiseInputGrad(dyp, w, dxp, g.batchSize, g.outHeight, g.outWidth, g.strideHeight, g.strideWidth, hp, wp, g.filterHeight, g.filterWidth, c4);
  const padded = mod.f32(dxp, g.batchSize * hp * wp * c4);
  for (let b = 0; b < g.batchSize; b++) {
    for (let y = 0; y < g.inHeight; y++) {
      for (let xx = 0; xx < g.inWidth; xx++) {
        const src = ((b * hp + y + g.padTop) * wp + xx + g.padLeft) * c4;
        out.set(padded.subarray(src, src + c), ((b * g.inHeight + y) * g.inWidth + xx) * c);
      }
    }
  }
  return out;
}

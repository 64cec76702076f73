import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward, conv2dForwardWinograd, winogradApplies, winogradFilter, type ConvEpilogue, type ConvGeometry } from './conv.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise.js';
import { pointwiseApplies, pointwiseInPlace } from './pointwise.js';
import type { KernelVariant } from './kernel-binary.js';
import { CONV_ACTIVATIONS, KernelModule, type ConvActivation } from './kernel-module.js';

/** The kernels Kennel adds to (or replaces in) the WebAssembly backend. */
export const KENNEL_WASM_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Identity'] as const;

type ConvAttrs = {
  dilations?: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

let registration: Promise<void> | undefined;
let kernelModule: KernelModule | undefined;

/** The build of the kernels registered in this thread, once `registerWasmKernels` has finished. */
export function registeredKernelVariant(): KernelVariant | undefined {
  return kernelModule?.variant;
}

/** The kernel module once `registerWasmKernels` has finished; used by the fused training ops. */
export function registeredKernelModule(): KernelModule | undefined {
  return kernelModule;
}

/**
 * Registers Kennel's SIMD kernels with the 'wasm' backend (before or after it initialises).
 * Idempotent: the first call in a thread chooses the build (`variant`). The stock backend has no
 * Conv2DBackpropFilter and a scalar Conv2DBackpropInput; these read the backend's tensors from
 * its heap, compute in Kennel's own WebAssembly module and write the result into a tensor the
 * backend allocates.
 */
export function registerWasmKernels(variant: KernelVariant = 'simd'): Promise<void> {
  registration ??= KernelModule.create(variant).then((mod) => {
    kernelModule = mod;
    // The stock forward kernels stay as the fallback for what ours do not cover (NCHW, dilation,
    // exotic activations). Ours measured ~20-35 GFLOP per CPU-second vs ~0.5 for the stock Conv2D.
    const stockConv = stockKernel('Conv2D');
    const stockFused = stockKernel('FusedConv2D');
    install('Conv2D', (args) => {
      const wasm = args.backend as BackendWasm;
      const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      const a = args.attrs as unknown as ConvAttrs;
      if (!covered(a) && stockConv) return stockConv(args);
      const info = convInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], a);
      const out = wasm.makeOutput(info.outShape, 'float32');
      const g = geometry(info);
      if (!(pointwiseApplies(g) && pointwiseInPlace(mod, wasm, x, filter, undefined, out, g, 'linear'))) forward(mod, wasm, x, filter, g, out, {});
      return out;
    });
    install('FusedConv2D', (args) => {
      const wasm = args.backend as BackendWasm;
      const { x, filter, bias, preluActivationWeights } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
      const a = args.attrs as unknown as ConvAttrs & { activation?: string };
      const activation = a.activation ?? 'linear';
      const simple = (CONV_ACTIVATIONS as readonly string[]).includes(activation) && !preluActivationWeights && (!bias || bias.shape.length <= 1);
      if ((!covered(a) || !simple) && stockFused) return stockFused(args);
      const info = convInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], a);
      const result = wasm.makeOutput(info.outShape, 'float32');
      const g = geometry(info);
      const c = info.outChannels;
      const channelBias = bias && bias.shape.length === 1 && bias.shape[0] === c;
      if (pointwiseApplies(g) && (!bias || channelBias) && pointwiseInPlace(mod, wasm, x, filter, bias, result, g, activation as ConvActivation)) return result;
      const b = bias ? floats(wasm, bias) : undefined;
      // A scalar bias broadcasts over the channels.
      const biasPerChannel = b && b.length === 1 ? new Float32Array(c).fill(b[0] as number) : b;
      forward(mod, wasm, x, filter, g, result, {
        ...(biasPerChannel ? { bias: biasPerChannel } : {}),
        activation: activation as ConvActivation,
      });
      return result;
    });
    // TF.js clones every tensor it saves for the backward pass; the stock wasm Identity copies the
    // data (~7% of a training step). Share the buffer and count the reference instead, as the CPU
    // backend and the wasm Reshape do.
    const stockIdentity = stockKernel('Identity');
    install('Identity', (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string' && stockIdentity) return stockIdentity(args);
      (args.backend as BackendWasm).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    });
    install('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
      const wasm = backend as BackendWasm;
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
      const info = convInfo(x.shape as [number, number, number, number], a.filterShape, a);
      const out = wasm.makeOutput(a.filterShape, 'float32');
      conv2dBackpropFilter(mod, floats(wasm, x), floats(wasm, dy), geometry(info), floats(wasm, out));
      return out;
    });
    install('Conv2DBackpropInput', ({ inputs, backend, attrs }) => {
      const wasm = backend as BackendWasm;
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
      const info = convInfo(a.inputShape, filter.shape as [number, number, number, number], a);
      const out = wasm.makeOutput(a.inputShape, 'float32');
      conv2dBackpropInput(mod, floats(wasm, dy), floats(wasm, filter), geometry(info), floats(wasm, out));
      return out;
    });
    install('DepthwiseConv2dNativeBackpropFilter', ({ inputs, backend, attrs }) => {
      const wasm = backend as BackendWasm;
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
      const info = depthwiseInfo(x.shape as [number, number, number, number], a.filterShape, a);
      const out = wasm.makeOutput(a.filterShape, 'float32');
      depthwiseBackpropFilter(mod, floats(wasm, x), floats(wasm, dy), geometry(info), floats(wasm, out));
      return out;
    });
    install('DepthwiseConv2dNativeBackpropInput', ({ inputs, backend, attrs }) => {
      const wasm = backend as BackendWasm;
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
      const info = depthwiseInfo(a.inputShape, filter.shape as [number, number, number, number], a);
      const out = wasm.makeOutput(a.inputShape, 'float32');
      depthwiseBackpropInput(mod, floats(wasm, dy), floats(wasm, filter), geometry(info), floats(wasm, out));
      return out;
    });
  });
  return registration;
}

/**
 * Filters in the Winograd domain, by the filter tensor's data id: a served model's weights are
 * transformed once; a training step's new weights get new data ids (and entries that are
 * collected with them).
 */
const winogradFilters = new WeakMap<object, Float32Array>();

/** A forward convolution: Winograd F(2×2, 3×3) where it applies, the direct GEMM otherwise. */
function forward(mod: KernelModule, wasm: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry, out: tf.TensorInfo, epilogue: ConvEpilogue): void {
  if (winogradApplies(g)) {
    let u = winogradFilters.get(filter.dataId);
    if (!u) {
      u = winogradFilter(floats(wasm, filter), g.inChannels, g.outChannels);
      winogradFilters.set(filter.dataId, u);
    }
    conv2dForwardWinograd(mod, floats(wasm, x), u, g, floats(wasm, out), epilogue);
    return;
  }
  conv2dForward(mod, floats(wasm, x), floats(wasm, filter), g, floats(wasm, out), epilogue);
}

function stockKernel(kernelName: string): tf.KernelFunc | undefined {
  const k = tf.getKernel(kernelName, 'wasm');
  // Only keep a kernel that is not ours (registration is idempotent per process).
  return k && !(k.kernelFunc as { kennel?: boolean }).kennel ? k.kernelFunc : undefined;
}

function covered(a: ConvAttrs): boolean {
  const d = a.dilations ?? 1;
  const dilated = Array.isArray(d) ? d[0] !== 1 || d[1] !== 1 : d !== 1;
  return a.dataFormat !== 'NCHW' && !dilated;
}

function install(kernelName: (typeof KENNEL_WASM_KERNELS)[number], kernelFunc: tf.KernelFunc): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (stock) tf.unregisterKernel(kernelName, 'wasm');
  Object.assign(kernelFunc, { kennel: true });
  // Keep the stock kernel's setup (it binds the backend's C function the fallback calls).
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}) });
}

function convInfo(inShape: [number, number, number, number], filterShape: [number, number, number, number], a: ConvAttrs): tf.backend_util.Conv2DInfo {
  if (a.dataFormat === 'NCHW') throw new Error('Kennel wasm kernels support NHWC only');
  return tf.backend_util.computeConv2DInfo(inShape, filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
}

/** Depthwise geometry (channel multiplier 1: inChannels == outChannels). */
function depthwiseInfo(inShape: [number, number, number, number], filterShape: [number, number, number, number], a: ConvAttrs): tf.backend_util.Conv2DInfo {
  if (a.dataFormat === 'NCHW') throw new Error('Kennel wasm kernels support NHWC only');
  if (filterShape[3] !== 1) throw new Error(`Kennel depthwise gradients support channel multiplier 1 only, got ${filterShape[3]}`);
  return tf.backend_util.computeConv2DInfo(inShape, filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true, 'channelsLast');
}

function geometry(c: tf.backend_util.Conv2DInfo): ConvGeometry {
  if (c.dilationHeight !== 1 || c.dilationWidth !== 1) throw new Error('Kennel wasm kernels support dilation 1 only');
  return {
    batchSize: c.batchSize,
    inHeight: c.inHeight,
    inWidth: c.inWidth,
    inChannels: c.inChannels,
    outHeight: c.outHeight,
    outWidth: c.outWidth,
    outChannels: c.outChannels,
    filterHeight: c.filterHeight,
    filterWidth: c.filterWidth,
    strideHeight: c.strideHeight,
    strideWidth: c.strideWidth,
    padTop: c.padInfo.top,
    padLeft: c.padInfo.left,
  };
}

/** A float32 view of a tensor's data on the wasm heap (valid until the heap next grows). */
function floats(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`Kennel wasm kernels expect float32, got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}


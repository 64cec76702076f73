import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { ConvGeometry } from './conv.js';
import type { ConvActivation, HeapKernels, KernelModule } from './kernel-module.js';

/** Rows of B swept per block, as in the copying GEMM (conv.ts). */
const R_BLOCK = 256;

/** What the emscripten module of the wasm backend exposes and the backend's typings leave out. */
interface EmscriptenHeap {
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

/** The kernels bound to one backend heap, and the identity column table they use there. */
interface HeapState {
  readonly kernels: HeapKernels;
  table: number;
  tableLength: number;
}

const heaps = new WeakMap<WebAssembly.Memory, HeapState>();

/**
 * Whether {@link pointwiseInPlace} computes this convolution: 1×1, stride 1, no padding, and a
 * multiple of 8 output channels (so the output tensor is the GEMM's C as it stands).
 */
export function pointwiseApplies(g: ConvGeometry): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outHeight === g.inHeight &&
    g.outWidth === g.inWidth &&
    g.outChannels % 8 === 0
  );
}

/**
 * out = act(x · filter + bias) for a 1×1 convolution, computed where the tensors live on the wasm
 * backend's heap: a 1×1 convolution over NHWC is a plain [pixels, inC] × [inC, outC] product,
 * so nothing is copied in or out (the copying path moves every activation twice). Returns false,
 * doing nothing, when the backend's heap cannot be reached (the caller then copies).
 */
export function pointwiseInPlace(
  mod: KernelModule,
  wasm: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  out: tf.TensorInfo,
  g: ConvGeometry,
  activation: ConvActivation,
): boolean {
  if ([x, filter, out, ...(bias ? [bias] : [])].some((t) => t.dtype !== 'float32')) return false;
  const emscripten = (wasm as unknown as { wasm: EmscriptenHeap }).wasm;
  const memory = emscripten.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return false;
  let heap = heaps.get(memory);
  if (!heap) {
    heap = { kernels: mod.onMemory(memory), table: 0, tableLength: 0 };
    heaps.set(memory, heap);
  }
  const k = g.inChannels;
  if (heap.tableLength < k) {
    if (heap.table) emscripten._free(heap.table);
    const length = Math.max(1024, k);
    heap.table = emscripten._malloc(length * 4);
    heap.tableLength = length;
    const table = new Int32Array(memory.buffer, heap.table, length);
    for (let r = 0; r < length; r++) table[r] = r * 4;
  }
  // Offsets are read after the table's malloc, which may have grown (and detached) the heap.
  const offset = (t: tf.TensorInfo): number => wasm.typedArrayFromHeap(t).byteOffset;
  const pixels = g.batchSize * g.outHeight * g.outWidth;
  heap.kernels.gemmDenseBiasAct(offset(x), k * 4, heap.table, offset(filter), offset(out), pixels, k, g.outChannels, R_BLOCK, bias ? offset(bias) : 0, activation);
  return true;
}

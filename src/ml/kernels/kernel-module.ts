import { loadKernelBinary, type KernelVariant } from './kernel-binary.js';

/** Activations the GEMM and Winograd epilogues apply as they store the output. */
export const CONV_ACTIVATIONS = ['linear', 'relu', 'relu6'] as const;
export type ConvActivation = (typeof CONV_ACTIVATIONS)[number];

/** The epilogue code the WebAssembly kernels take: 0 linear, 1 ReLU, 2 ReLU6. */
export function activationCode(activation: ConvActivation): number {
  return CONV_ACTIVATIONS.indexOf(activation);
}

/** The raw exports of the AssemblyScript module (see assembly/index.ts). */
interface KernelExports {
  gemmGather(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number): void;
  gemmGatherBiasAct(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number, bias: number, relu: number): void;
  gemmDenseBiasAct(src: number, ldaBytes: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number, bias: number, relu: number): void;
  winogradInput(xp: number, v: number, hp: number, wp: number, c: number, tilesY: number, tilesX: number, t0: number, count: number, count4: number): void;
  winogradOutput(m: number, out: number, bias: number, relu: number, oh: number, ow: number, np: number, tilesY: number, tilesX: number, t0: number, count: number, count4: number): void;
  channelMoments(x: number, p: number, c: number, shift: number, sums: number, sq: number): void;
  bnBackwardSums(dy: number, x: number, p: number, c: number, mean: number, sumDy: number, sumDyXc: number): void;
  channelAffine2(u: number, v: number, out: number, p: number, c: number, a: number, b: number, d: number): void;
  poolReluBackward(x: number, y: number, dy: number, dx: number, n: number, h: number, w: number, c: number): void;
  depthwiseFilterGrad(xp: number, dy: number, dw: number, batch: number, oh: number, ow: number, sy: number, sx: number, hp: number, wp: number, fh: number, fw: number, c: number): void;
  depthwiseInputGrad(dy: number, w: number, dxp: number, batch: number, oh: number, ow: number, sy: number, sx: number, hp: number, wp: number, fh: number, fw: number, c: number): void;
}

/** The compiled kernels (they import their linear memory, so one binary serves every instance). */
const compiled = new Map<KernelVariant, Promise<WebAssembly.Module>>();

function compiledKernels(variant: KernelVariant): Promise<WebAssembly.Module> {
  let module = compiled.get(variant);
  if (!module) {
    module = loadKernelBinary(variant).then((binary) => WebAssembly.compile(binary));
    compiled.set(variant, module);
  }
  return module;
}

function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const abort = (): never => {
    throw new Error('kennel kernel aborted');
  };
  return new WebAssembly.Instance(module, { env: { memory, abort } }).exports as unknown as KernelExports;
}

/**
 * One instance of the compiled kernels with a scratch arena in its own linear memory. Each kernel
 * call lays its buffers out from the start of the arena (`reset`, then `alloc`), so memory is
 * reused between calls and only grows to the largest call seen. Not re-entrant (kernels run
 * synchronously on one thread).
 */
export class KernelModule {
  private top = 0;
  private constructor(
    private readonly exports: KernelExports,
    private readonly memory: WebAssembly.Memory,
    private readonly module: WebAssembly.Module,
    /** Which build of the kernels this instance runs. */
    readonly variant: KernelVariant,
  ) {}

  /** `variant`: which build to run (see kernel-variant.ts). */
  static async create(variant: KernelVariant = 'simd'): Promise<KernelModule> {
    const module = await compiledKernels(variant);
    const memory = new WebAssembly.Memory({ initial: 16 });
    return new KernelModule(instantiate(module, memory), memory, module, variant);
  }

  /**
   * Another instance of the same kernels working directly in `memory` (the TensorFlow.js wasm
   * backend's heap), for kernels that read and write the backend's tensors in place. It has no
   * arena: callers pass offsets of memory they own there.
   */
  onMemory(memory: WebAssembly.Memory): HeapKernels {
    return new HeapKernels(instantiate(this.module, memory));
  }

  /** Starts a new layout; previous allocations become invalid. */
  reset(): void {
    this.top = 1024; // keep the first KiB for the module's own (static) data
  }

  /** Reserves `bytes` (rounded up to 64) and returns the byte offset; grows memory if needed. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(bytes / 64) * 64;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }

  /** The module's exported kernels (byte-offset arguments; see assembly/index.ts). */
  get kernels(): KernelExports {
    return this.exports;
  }

  /** Copies `data` into a fresh allocation and returns its byte offset. */
  put(data: Float32Array): number {
    const ptr = this.alloc(data.length * 4);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  gemmGather(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number): void {
    this.exports.gemmGather(src, rowOff, colOff, b, c, m, r, np, rBlock);
  }

  /** C = act(A·B + bias), written without reading C; `bias` 0 means none (see assembly/index.ts). */
  gemmGatherBiasAct(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number, bias: number, activation: ConvActivation): void {
    this.exports.gemmGatherBiasAct(src, rowOff, colOff, b, c, m, r, np, rBlock, bias, activationCode(activation));
  }
}

/** The kernels over the TensorFlow.js wasm backend's heap (see {@link KernelModule.onMemory}). */
export class HeapKernels {
  constructor(private readonly exports: KernelExports) {}

  /**
   * C[m, np] = act(A·B + bias) for a 1×1 convolution in place: A [m, k] rows `ldaBytes` apart at
   * `src`, `colOff` an identity table of at least k entries (r → 4r), B [k, np], bias 0 for none.
   */
  gemmDenseBiasAct(src: number, ldaBytes: number, colOff: number, b: number, c: number, m: number, k: number, np: number, rBlock: number, bias: number, activation: ConvActivation): void {
    this.exports.gemmDenseBiasAct(src, ldaBytes, colOff, b, c, m, k, np, rBlock, bias, activationCode(activation));
  }
}

import { loadKernelBinary } from './kernel-binary.js';

/** Activations the GEMM and Winograd epilogues apply as they store the output. */
export const CONV_ACTIVATIONS = ['linear', 'relu', 'relu6'] as const;
export type ConvActivation = (typeof CONV_ACTIVATIONS)[number];

/** The epilogue code the WebAssembly kernels take: 0 linear, 1 ReLU, 2 ReLU6. */
export function activationCode(activation: ConvActivation): number {
  return CONV_ACTIVATIONS.indexOf(activation);
}

/** The raw exports of the AssemblyScript module (see assembly/index.ts). */
interface KernelExports {
  memory: WebAssembly.Memory;
  gemmGather(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number): void;
  gemmGatherBiasAct(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number, bias: number, relu: number): void;
  winogradInput(xp: number, v: number, hp: number, wp: number, c: number, tilesY: number, tilesX: number, t0: number, count: number, count4: number): void;
  winogradOutput(m: number, out: number, bias: number, relu: number, oh: number, ow: number, np: number, tilesY: number, tilesX: number, t0: number, count: number, count4: number): void;
  channelMoments(x: number, p: number, c: number, shift: number, sums: number, sq: number): void;
  bnBackwardSums(dy: number, x: number, p: number, c: number, mean: number, sumDy: number, sumDyXc: number): void;
  channelAffine2(u: number, v: number, out: number, p: number, c: number, a: number, b: number, d: number): void;
  poolReluBackward(x: number, y: number, dy: number, dx: number, n: number, h: number, w: number, c: number): void;
  depthwiseFilterGrad(xp: number, dy: number, dw: number, batch: number, oh: number, ow: number, sy: number, sx: number, hp: number, wp: number, fh: number, fw: number, c: number): void;
  depthwiseInputGrad(dy: number, w: number, dxp: number, batch: number, oh: number, ow: number, sy: number, sx: number, hp: number, wp: number, fh: number, fw: number, c: number): void;
}

/**
 * One instance of the compiled kernels with a scratch arena in its linear memory. Each kernel
 * call lays its buffers out from the start of the arena (`reset`, then `alloc`), so memory is
 * reused between calls and only grows to the largest call seen. Not re-entrant (kernels run
 * synchronously on one thread).
 */
export class KernelModule {
  private top = 0;
  private constructor(private readonly exports: KernelExports) {}

  static async create(): Promise<KernelModule> {
    const binary = await loadKernelBinary();
    const { instance } = await WebAssembly.instantiate(binary, {
      env: {
        abort: (): never => {
          throw new Error('kennel kernel aborted');
        },
      },
    });
    return new KernelModule(instance.exports as unknown as KernelExports);
  }

  /** Starts a new layout; previous allocations become invalid. */
  reset(): void {
    this.top = 1024; // keep the first KiB for the module's own (static) data
  }

  /** Reserves `bytes` (rounded up to 64) and returns the byte offset; grows memory if needed. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(bytes / 64) * 64;
    const have = this.exports.memory.buffer.byteLength;
    if (this.top > have) this.exports.memory.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }

  /** The module's exported kernels (byte-offset arguments; see assembly/index.ts). */
  get kernels(): Omit<KernelExports, 'memory'> {
    return this.exports;
  }

  /** Copies `data` into a fresh allocation and returns its byte offset. */
  put(data: Float32Array): number {
    const ptr = this.alloc(data.length * 4);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, ptr, length);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.exports.memory.buffer, ptr, length);
  }

  gemmGather(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number): void {
    this.exports.gemmGather(src, rowOff, colOff, b, c, m, r, np, rBlock);
  }

  /** C = act(A·B + bias), written without reading C; `bias` 0 means none (see assembly/index.ts). */
  gemmGatherBiasAct(src: number, rowOff: number, colOff: number, b: number, c: number, m: number, r: number, np: number, rBlock: number, bias: number, activation: ConvActivation): void {
    this.exports.gemmGatherBiasAct(src, rowOff, colOff, b, c, m, r, np, rBlock, bias, activationCode(activation));
  }
}

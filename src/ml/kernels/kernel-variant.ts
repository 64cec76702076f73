import v8 from 'node:v8';
import type { KernelVariant } from './kernel-binary.js';

/**
 * What a thread's WebAssembly kernels serve. `training` (training, evaluation) runs the plain
 * SIMD build: the same seed gives the same model on every host. `inference` (serving, batch
 * prediction) runs the relaxed-SIMD build where the engine has it: fused multiply-adds, ~15 %
 * less CPU an image; their rounding depends on the CPU, which a prediction can afford.
 */
export type KernelPurpose = 'training' | 'inference';

/**
 * Set to `simd` (or `0`/`off`/`false`) to run the plain SIMD build for inference too: for A/B
 * measurements, or bit-for-bit agreement with evaluation.
 */
export const RELAXED_SIMD_ENV = 'KENNEL_WASM_RELAXED_SIMD';

// The smallest module that uses a relaxed-SIMD instruction:
// (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code section
]);

/** Whether this engine compiles relaxed SIMD now. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

let relaxedAvailable: boolean | undefined;

/**
 * Whether relaxed SIMD can run here. Node 20's V8 implements it behind a flag (standard from V8
 * 11.4 / Node 22); the flag only adds instructions to what validates, so it is switched on, once
 * per process, before the kernels compile.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedAvailable !== undefined) return relaxedAvailable;
  if (!relaxedSimdSupported()) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // an engine without the flag: the probe below says no
    }
  }
  relaxedAvailable = relaxedSimdSupported();
  return relaxedAvailable;
}

/** The kernel build for `purpose` on this engine, honouring KENNEL_WASM_RELAXED_SIMD. */
export function kernelVariant(purpose: KernelPurpose, env: NodeJS.ProcessEnv = process.env): KernelVariant {
  if (purpose === 'training') return 'simd';
  const setting = (env[RELAXED_SIMD_ENV] ?? '').trim().toLowerCase();
  if (['simd', '0', 'off', 'false', 'no'].includes(setting)) return 'simd';
  return enableRelaxedSimd() ? 'relaxed-simd' : 'simd';
}

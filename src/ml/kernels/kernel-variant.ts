import v8 from 'node:v8';
import type { KernelVariant } from './kernel-binary.js';

/**
 * Set to `simd` (or `0`/`off`/`false`) to run the plain SIMD build of the kernels even where
 * relaxed SIMD is available: for A/B measurements, or bit-for-bit agreement across hosts.
 */
export const RELAXED_SIMD_ENV = 'KENNEL_WASM_RELAXED_SIMD';

// The smallest module that uses a relaxed-SIMD instruction:
// (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code
]);

/** Whether this engine compiles relaxed SIMD now. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

let chosen: KernelVariant | undefined;

/**
 * The kernel build this process runs: `relaxed-simd` where the engine has it, else `simd`.
 * Node 20's V8 implements relaxed SIMD behind a flag (standard from V8 11.4 / Node 22); the flag
 * only adds instructions to what validates, so it is switched on, once, before the kernels are
 * compiled. The choice is made once per process and logged by the backend selection.
 */
export function kernelVariant(): KernelVariant {
  if (chosen) return chosen;
  const setting = (process.env[RELAXED_SIMD_ENV] ?? '').trim().toLowerCase();
  if (['simd', '0', 'off', 'false', 'no'].includes(setting)) return (chosen = 'simd');
  if (!relaxedSimdSupported()) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // an engine without the flag: validation below says no
    }
  }
  chosen = relaxedSimdSupported() ? 'relaxed-simd' : 'simd';
  return chosen;
}

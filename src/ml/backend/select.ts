import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../../shared/logger.js';
import type { KernelVariant } from '../kernels/kernel-binary.js';
import { kernelVariant, type KernelPurpose } from '../kernels/kernel-variant.js';
import { registerWasmKernels, registeredKernelVariant } from '../kernels/register.js';

export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export interface SelectedBackend {
  /** tf.getBackend() after selection: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** True when the native TensorFlow library (tfjs-node) runs the ops. */
  native: boolean;
  /** On the WebAssembly backend, which build of Kennel's kernels runs (see kernel-variant.ts). */
  kernels?: KernelVariant;
}

let selection: Promise<SelectedBackend> | undefined;
let selectedFor: BackendPreference | undefined;

/**
 * Chooses the TensorFlow.js backend for this process and logs which one runs.
 *
 * 'auto' tries, in order: `@tensorflow/tfjs-node` (an optional dependency whose native library
 * may be absent), the WebAssembly backend with Kennel's training kernels registered (the stock
 * one cannot train a CNN), then the pure JavaScript CPU backend. A named preference tries that
 * backend only, then falls back the same way with a warning. Idempotent: later calls with the
 * same preference return the first result (re-activating that backend if something switched
 * away from it) and log it again, marked `reused`; a different preference re-selects.
 * `purpose` picks the build of Kennel's WebAssembly kernels (kernel-variant.ts): 'training' (the
 * default) the reproducible one, 'inference' the fastest; the first selection in a thread fixes it.
 */
export function selectBackend(options: { preference?: BackendPreference; logger?: Logger; purpose?: KernelPurpose } = {}): Promise<SelectedBackend> {
  const preference = options.preference ?? 'auto';
  if (selection && selectedFor === preference) {
    // Someone may have switched backends directly (tf.setBackend) since: switch back.
    return selection.then(async (chosen) => {
      if (tf.getBackend() !== chosen.name) await setAndCheck(chosen.name);
      // Every caller's log says which backend runs its work, not only the first caller's.
      options.logger?.info({ backend: chosen.name, native: chosen.native, kernels: chosen.kernels, preference, reused: true }, 'tensorflow backend selected');
      return chosen;
    });
  }
  selectedFor = preference;
  selection = choose(preference, options.purpose ?? 'training', options.logger).catch((err: unknown) => {
    selection = undefined;
    selectedFor = undefined;
    throw err;
  });
  return selection;
}

async function choose(preference: BackendPreference, purpose: KernelPurpose, logger: Logger | undefined): Promise<SelectedBackend> {
  const order: BackendPreference[] =
    preference === 'auto' || preference === 'tensorflow' ? ['tensorflow', 'wasm', 'cpu'] : preference === 'wasm' ? ['wasm', 'cpu'] : ['cpu'];
  const failures: Record<string, string> = {};
  for (const candidate of order) {
    try {
      await activate(candidate, purpose);
      const kernels = candidate === 'wasm' ? registeredKernelVariant() : undefined;
      const chosen: SelectedBackend = { name: tf.getBackend(), native: candidate === 'tensorflow', ...(kernels ? { kernels } : {}) };
      const level = preference !== 'auto' && candidate !== preference ? 'warn' : 'info';
      logger?.[level]({ backend: chosen.name, native: chosen.native, kernels: chosen.kernels, preference, failures }, 'tensorflow backend selected');
      return chosen;
    } catch (err) {
      failures[candidate] = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
      logger?.debug({ backend: candidate, error: failures[candidate] }, 'tensorflow backend unavailable');
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${JSON.stringify(failures)}`);
}

async function activate(name: BackendPreference, purpose: KernelPurpose): Promise<void> {
  if (name === 'tensorflow') {
    // Optional dependency: absent or unloadable where its native library is missing.
    const moduleName = '@tensorflow/tfjs-node';
    await import(moduleName);
    await setAndCheck('tensorflow');
    return;
  }
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmDistDirectory());
    await registerWasmKernels(kernelVariant(purpose));
    await setAndCheck('wasm');
    return;
  }
  await setAndCheck('cpu');
}

async function setAndCheck(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`backend ${name} did not initialise`);
}

/** Directory (with trailing separator) holding the wasm binaries of the installed package. */
export function wasmDistDirectory(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  // main resolves into <package>/dist/...; the .wasm files sit in <package>/dist/.
  let dir = path.dirname(main);
  while (path.basename(dir) !== 'dist' && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir + path.sep;
}

import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** File name of the compiled kernels, next to this module (src/ml/kernels or dist/ml/kernels). */
export const KERNEL_WASM_FILE = 'kennel-kernels.wasm';

/** Arguments for the AssemblyScript compiler; `npm run build:kernels` uses the same ones. */
export const ASC_ARGS = ['-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--initialMemory', '16', '--importMemory'] as const;

export function kernelWasmPath(): string {
  return fileURLToPath(new URL(`./${KERNEL_WASM_FILE}`, import.meta.url));
}

export function kernelSourcePath(): string {
  return fileURLToPath(new URL('./assembly/index.ts', import.meta.url));
}

/**
 * Compiles the AssemblyScript kernels to `outFile` with the `assemblyscript` devDependency.
 * Used by `npm run build:kernels` and, in development, when the binary is missing.
 */
export async function compileKernels(outFile: string = kernelWasmPath()): Promise<void> {
  const ascModule = 'assemblyscript/asc';
  const asc = (await import(ascModule)) as {
    main(argv: string[], options?: object): Promise<{ error: Error | null; stderr: { toString(): string } }>;
  };
  mkdirSync(path.dirname(outFile), { recursive: true });
  const { error, stderr } = await asc.main([kernelSourcePath(), '--outFile', outFile, ...ASC_ARGS]);
  if (error) throw new Error(`AssemblyScript kernel build failed: ${error.message}\n${stderr.toString()}`);
}

/**
 * The compiled kernel binary. Production builds ship it beside the compiled JavaScript; in a
 * source checkout it is compiled on first use when missing (needs the devDependencies).
 */
export async function loadKernelBinary(): Promise<Uint8Array<ArrayBuffer>> {
  const file = kernelWasmPath();
  const source = kernelSourcePath();
  const haveSource = existsSync(source);
  if (!existsSync(file)) {
    if (!haveSource) throw new Error(`Kennel's WebAssembly kernels are missing (${file}); run \`npm run build\``);
    await compileKernels(file);
  } else if (haveSource && statSync(source).mtimeMs > statSync(file).mtimeMs) {
    await compileKernels(file); // a source checkout with edited kernels
  }
  return new Uint8Array(readFileSync(file));
}

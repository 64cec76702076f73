import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The kernels are built twice from the same source: `simd` (128-bit SIMD, every engine Kennel
 * supports) and `relaxed-simd`, where the GEMMs' multiply-add is one fused instruction
 * (`f32x4.relaxed_madd`, an FMA on x86-64 with FMA3 and on arm64). See kernel-variant.ts for
 * which one a process runs.
 */
export const KERNEL_VARIANTS = ['simd', 'relaxed-simd'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

/** File name of each compiled variant, next to this module (src/ml/kernels or dist/ml/kernels). */
export const KERNEL_WASM_FILES: Record<KernelVariant, string> = {
  simd: 'kennel-kernels.wasm',
  'relaxed-simd': 'kennel-kernels-relaxed.wasm',
};

const ASC_BASE_ARGS = ['-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--initialMemory', '16', '--importMemory'];

/** Arguments for the AssemblyScript compiler, the only copy (`npm run build:kernels` calls compileKernels). */
export const ASC_ARGS: Record<KernelVariant, readonly string[]> = {
  simd: ASC_BASE_ARGS,
  'relaxed-simd': [...ASC_BASE_ARGS, '--enable', 'relaxed-simd'],
};

export function kernelWasmPath(variant: KernelVariant = 'simd'): string {
  return fileURLToPath(new URL(`./${KERNEL_WASM_FILES[variant]}`, import.meta.url));
}

export function kernelSourcePath(): string {
  return fileURLToPath(new URL('./assembly/index.ts', import.meta.url));
}

/**
 * Compiles the AssemblyScript kernels to `outFile` with the `assemblyscript` devDependency.
 * Used by `npm run build:kernels` and, in development, when the binary is missing.
 */
export async function compileKernels(variant: KernelVariant = 'simd', outFile: string = kernelWasmPath(variant)): Promise<void> {
  const ascModule = 'assemblyscript/asc';
  const asc = (await import(ascModule)) as {
    main(argv: string[], options?: object): Promise<{ error: Error | null; stderr: { toString(): string } }>;
  };
  mkdirSync(path.dirname(outFile), { recursive: true });
  const { error, stderr } = await asc.main([kernelSourcePath(), '--outFile', outFile, ...ASC_ARGS[variant]]);
  if (error) throw new Error(`AssemblyScript kernel build failed (${variant}): ${error.message}\n${stderr.toString()}`);
}

/**
 * The compiled kernel binary. Production builds ship it beside the compiled JavaScript; in a
 * source checkout it is compiled on first use when missing (needs the devDependencies).
 */
export async function loadKernelBinary(variant: KernelVariant = 'simd'): Promise<Uint8Array<ArrayBuffer>> {
  const file = kernelWasmPath(variant);
  const source = kernelSourcePath();
  const haveSource = existsSync(source);
  if (!existsSync(file)) {
    if (!haveSource) throw new Error(`Kennel's WebAssembly kernels are missing (${file}); run \`npm run build\``);
    await compileKernels(variant, file);
  } else if (haveSource && statSync(source).mtimeMs > statSync(file).mtimeMs) {
    await compileKernels(variant, file); // a source checkout with edited kernels
  }
  return new Uint8Array(readFileSync(file));
}

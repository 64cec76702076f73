/**
 * `npm run build:kernels`: compiles every build of the AssemblyScript kernels into a folder
 * (default dist/ml/kernels, beside the compiled kernel-binary.js that loads them). A build
 * script, not part of the product: tsconfig.build.json leaves it out of dist.
 */
import path from 'node:path';
import { KERNEL_VARIANTS, KERNEL_WASM_FILES, compileKernels } from './kernel-binary.js';

const outDir = path.resolve(process.argv[2] ?? 'dist/ml/kernels');
for (const variant of KERNEL_VARIANTS) {
  const file = path.join(outDir, KERNEL_WASM_FILES[variant]);
  await compileKernels(variant, file);
  console.log(`built ${variant} kernels → ${path.relative(process.cwd(), file)}`);
}

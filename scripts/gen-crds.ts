/**
 * Writes crds/<plural>.kennel.dev.yaml and docs/api-reference.md from the TypeBox schemas in
 * src/shared/api. `--check` writes nothing and exits 1 when a file differs (CI drift check).
 *
 *   npm run gen:crds     # regenerate
 *   npm run check:crds   # fail on drift
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../src/shared/api/generated-files.js';

const repoRoot = new URL('../', import.meta.url);

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [relPath, content] of generatedFiles()) {
    const url = new URL(relPath, repoRoot);
    const current = await readFile(url, 'utf8').catch(() => undefined);
    if (current === content) continue;
    if (check) {
      stale.push(relPath);
    } else {
      await mkdir(new URL('./', url), { recursive: true });
      await writeFile(url, content);
      process.stdout.write(`wrote ${fileURLToPath(url)}\n`);
    }
  }
  if (stale.length > 0) {
    process.stderr.write(`out of date (run npm run gen:crds): ${stale.join(', ')}\n`);
    process.exit(1);
  }
}

await main();

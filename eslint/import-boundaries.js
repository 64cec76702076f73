// @ts-check
/**
 * `kennel/import-boundaries`: which top-level folders of the repository a file may import from,
 * judged on the resolved path of every relative import, re-export and dynamic `import()` (so
 * `../test/x.js`, `../../test/x.js` and `./a/../../test/x.js` are the same thing).
 *
 * - Product code never imports test code: `src/`, `local-cluster/`, `scripts/` and `bench/` never
 *   import `test/`.
 * - `src/` is what the images are built from (.dockerignore admits only src/, tsconfig.build.json's
 *   rootDir is src/), so it imports nothing outside itself: not the local cluster, the scripts,
 *   the benchmarks or the tests.
 *
 * Tests (`*.test.ts`, `test-support/`) are exempt: a test may import any product code, wherever
 * it sits.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** @type {Record<string, { forbid: string[], why: string }>} */
export const boundaries = {
  src: { forbid: ['local-cluster', 'scripts', 'bench', 'test'], why: 'src/ is what the images hold; it imports nothing outside src/' },
  'local-cluster': { forbid: ['test'], why: 'product code never imports test code' },
  scripts: { forbid: ['test'], why: 'product code never imports test code' },
  bench: { forbid: ['test'], why: 'product code never imports test code' },
};

const isTestFile = (/** @type {string} */ rel) => /\.test\.[cm]?[jt]s$/.test(rel) || rel.split(path.sep).includes('test-support');

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps product code away from test code, and src/ (the images) away from everything outside it.' },
    schema: [],
    messages: { outside: "{{from}}/ may not import {{to}}/ ('{{spec}}'): {{why}}." },
  },
  create(context) {
    const file = path.relative(root, context.filename);
    const from = file.split(path.sep)[0] ?? '';
    const boundary = boundaries[from];
    if (!boundary || isTestFile(file)) return {};
    /** @param {import('estree').Node | null | undefined} source */
    const check = (source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) return;
      const target = path.relative(root, path.resolve(path.dirname(context.filename), spec));
      const to = target.split(path.sep)[0] ?? '';
      if (boundary.forbid.includes(to)) context.report({ node: source, messageId: 'outside', data: { from, to, spec, why: boundary.why } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export const importBoundaries = { rules: { 'import-boundaries': rule } };

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { buildCrds } from '../../src/shared/api/crd.js';
import { repoRoot } from './paths.js';

/**
 * What people copy into a terminal names Kennel's kinds so that kubectl cannot pick another
 * project's: KServe's InferenceService has the plural `inferenceservices` too, and kubectl
 * resolves a bare plural to whichever group it finds first. Every kubectl command in the docs,
 * the examples, the chart's NOTES and the demo's hints uses a short name (`ktr`, `kmv`, `kis`, `kbp`),
 * the `kennel` category, or the group-qualified name.
 */

const DOC_FILES = ['README.md', 'charts/kennel/README.md', 'charts/kennel/templates/NOTES.txt', 'src/serve/README.md', 'local-cluster/README.md', 'scripts/demo.ts'];
const DOC_DIRS = ['docs', 'examples'];

async function files(): Promise<string[]> {
  const out = [...DOC_FILES];
  for (const dir of DOC_DIRS) {
    for (const e of await readdir(join(repoRoot, dir), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && e.name !== 'api-reference.md') out.push(relative(repoRoot, join(e.parentPath, e.name)));
    }
  }
  return out;
}

describe('kubectl names in docs and examples', function () {
  const crds = [...buildCrds().values()];
  const bare = crds.flatMap((c) => [c.spec.names.plural, c.spec.names.singular, c.spec.names.kind.toLowerCase()]);
  // `kubectl <verb> [flags] <bare name>` (also in lists such as `trainingrun|modelversion`), not `<name>.kennel.dev`.
  const pattern = new RegExp(`kubectl\\b[^\\n]*?[\\s|/](${[...new Set(bare)].join('|')})(?![.\\w-])`, 'g');

  it('every kind has a short name starting with k (ktr, kmv, kis, ...), in the kennel category', function () {
    expect(crds.length).to.be.at.least(4);
    for (const c of crds) {
      expect(c.spec.names.shortNames, c.spec.names.kind).to.have.length(1);
      expect(c.spec.names.shortNames[0], c.spec.names.kind).to.match(/^k[a-z]{2}$/);
      expect(c.spec.names.categories, c.spec.names.kind).to.deep.equal(['kennel']);
    }
    expect(crds.find((c) => c.spec.names.kind === 'InferenceService')?.spec.names.shortNames).to.deep.equal(['kis']);
  });

  it('no kubectl command names a Kennel kind by a name another project also uses', async function () {
    const offending: string[] = [];
    for (const file of await files()) {
      const text = await readFile(join(repoRoot, file), 'utf8');
      text.split('\n').forEach((line, i) => {
        for (const m of line.matchAll(pattern)) offending.push(`${file}:${i + 1}: ${m[0].trim()}`);
      });
    }
    expect(offending, 'use ktr/kmv/kis or <plural>.kennel.dev').to.deep.equal([]);
  });
});

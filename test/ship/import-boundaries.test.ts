import { join } from 'node:path';
import { expect } from 'chai';
import { ESLint } from 'eslint';
import { repoRoot } from './paths.js';

/**
 * The import boundaries eslint enforces (eslint/import-boundaries.js): product code never imports
 * test code, and src/ (all the images are built from) imports nothing outside src/. Each case
 * lints one line as if it were a file at that path, with the repository's own configuration.
 */
describe('import boundaries (eslint)', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: repoRoot });

  const boundaryErrors = async (file: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, { filePath: join(repoRoot, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'kennel/import-boundaries').map((m) => m.message);
  };

  const forbidden: [string, string][] = [
    ['scripts/demo.ts', "import { x } from '../test/harness/prometheus.js';"],
    ['scripts/testbed/cluster-daemon.ts', "import { x } from '../../test/harness/namespace.js';"],
    ['local-cluster/testbed.ts', "import { x } from '../test/e2e/support/dataset.js';"],
    ['local-cluster/node-agent/node-agent.ts', "export { x } from '../../test/harness/namespace.js';"],
    ['local-cluster/kubectl.ts', "const { x } = await import('./node-agent/../../test/harness/namespace.js');"],
    ['bench/operator/run.ts', "import { x } from '../../test/harness/namespace.js';"],
    ['src/cli.ts', "import { x } from '../local-cluster/index.js';"],
    ['src/operator/main.ts', "import { x } from '../../scripts/testbed/layout.js';"],
    ['src/serve/app.ts', "import { x } from '../../test/integration/serve/helpers.js';"],
    ['src/worker/train/train.ts', "import { x } from '../../../bench/train/run.js';"],
  ];
  for (const [file, code] of forbidden) {
    it(`refuses in ${file}: ${code}`, async () => {
      const errors = await boundaryErrors(file, code);
      expect(errors, 'one boundary error').to.have.length(1);
    });
  }

  const allowed: [string, string][] = [
    ['test/integration/x.test.ts', "import { x } from '../../local-cluster/index.js';"],
    ['test/e2e/support/x.ts', "import { x } from '../../../scripts/demo/synthetic-dataset.js';"],
    ['src/worker/dataset/x.test.ts', "import { x } from '../../../test/integration/worker/synthetic-dataset.js';"],
    ['local-cluster/x.test.ts', "import { x } from '../test/harness/namespace.js';"],
    ['local-cluster/kubectl.ts', "import { x } from '../src/worker/dataset/map-limit.js';"],
    ['scripts/demo.ts', "import { x } from '../local-cluster/index.js';"],
    ['src/cli.ts', "import { x } from './shared/version.js';"],
    ['src/cli.ts', "import { x } from 'commander';"],
  ];
  for (const [file, code] of allowed) {
    it(`allows in ${file}: ${code}`, async () => {
      expect(await boundaryErrors(file, code)).to.deep.equal([]);
    });
  }
});

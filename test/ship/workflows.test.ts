import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from './paths.js';

/**
 * The GitHub workflows, checked by actionlint (built from its Go module by
 * scripts/build-tools.sh) and by what Kennel's contracts say they must do.
 */

const workflowsDir = join(repoRoot, '.github', 'workflows');

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, { steps: Step[] }> };

async function actionlintPath(): Promise<string> {
  const script = await readFile(join(repoRoot, 'scripts', 'build-tools.sh'), 'utf8');
  const version = /^ACTIONLINT_VERSION=(\S+)$/m.exec(script)?.[1];
  if (!version) throw new Error('ACTIONLINT_VERSION not found in scripts/build-tools.sh');
  const root = process.env.KENNEL_TOOLS_CACHE ?? join(homedir(), '.cache', 'kennel', 'tools');
  const path = join(root, `actionlint-${version}`, 'bin', 'actionlint');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`bash scripts/build-tools.sh\``);
  return path;
}

function actionlint(bin: string, files: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, ['-no-color', ...files], { cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

async function workflowFiles(): Promise<string[]> {
  return (await readdir(workflowsDir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(workflowsDir, f));
}

async function loadWorkflow(name: string): Promise<{ text: string; workflow: Workflow }> {
  const text = await readFile(join(workflowsDir, name), 'utf8');
  return { text, workflow: parse(text) as Workflow };
}

const allSteps = (w: Workflow): Step[] => Object.values(w.jobs).flatMap((j) => j.steps);

describe('GitHub workflows', function () {
  this.timeout(60_000);

  it('pass actionlint', async function () {
    const files = await workflowFiles();
    expect(files.map((f) => f.slice(workflowsDir.length + 1))).to.include.members(['ci.yml', 'release.yml']);
    const { code, out } = await actionlint(await actionlintPath(), files);
    expect(out).to.equal('');
    expect(code).to.equal(0);
  });

  it('actionlint does reject a broken workflow (the check above can fail)', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'kennel-actionlint-'));
    try {
      const broken = join(dir, 'broken.yml');
      await writeFile(broken, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n');
      const { code, out } = await actionlint(await actionlintPath(), [broken]);
      expect(code).to.not.equal(0);
      expect(out).to.include('nope');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pin every action to a full commit SHA, with its version in a comment', async function () {
    for (const file of await workflowFiles()) {
      const text = await readFile(file, 'utf8');
      for (const line of text.split('\n').filter((l) => /^\s*-?\s*uses:/.test(l))) {
        expect(line, file).to.match(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it('ci runs on pull requests and pushes, and only npm scripts that exist', async function () {
    const { workflow } = await loadWorkflow('ci.yml');
    expect(workflow.on).to.have.keys('pull_request', 'push', 'workflow_dispatch');
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const invoked = allSteps(workflow).flatMap((s) => [...(s.run ?? '').matchAll(/npm run (\S+)/g)].map((m) => m[1] as string));
    expect(invoked).to.include.members(['lint', 'typecheck', 'build', 'test:unit', 'testbed:build', 'test:integration', 'test:ship']);
    for (const script of invoked) expect(pkg.scripts, `npm run ${script}`).to.have.property(script);
    const scripts = allSteps(workflow).flatMap((s) => [...(s.run ?? '').matchAll(/bash (scripts\/\S+)/g)].map((m) => m[1] as string));
    for (const script of scripts) expect(existsSync(join(repoRoot, script)), script).to.equal(true);
  });

  it('release builds both images for amd64 and arm64 under the contract names, and pushes the chart', async function () {
    const { text, workflow } = await loadWorkflow('release.yml');
    expect(workflow.on).to.deep.equal({ push: { tags: ['v*.*.*'] } });
    const build = allSteps(workflow).find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with?.platforms).to.equal('linux/amd64,linux/arm64');
    expect(build?.with?.file).to.equal('Dockerfile.${{ matrix.image }}');
    const images = (workflow.jobs.images as unknown as { strategy: { matrix: { image: string[] } } }).strategy.matrix.image;
    expect(images).to.deep.equal(['operator', 'worker']);
    for (const image of images) expect(existsSync(join(repoRoot, `Dockerfile.${image}`))).to.equal(true);
    expect(text).to.include('ghcr.io/kennel-dev').and.to.include('/kennel-${{ matrix.image }}');
    expect(text).to.match(/helm package charts\/kennel/).and.to.match(/helm push .*oci:\/\//);
  });
});

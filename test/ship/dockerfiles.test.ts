import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import dockerignoreModule, { type Ignore } from '@balena/dockerignore';
import { expect } from 'chai';
import { parseDocument } from 'yaml';
import { execForm, parseDockerfile, type DockerfileModel, type DockerStage } from './dockerfile-model.js';
import { repoRoot } from './paths.js';

/**
 * The images cannot be built here (no Docker engine), so this checks what can be checked from
 * the files: the build context has every path a COPY names, the entry point is produced by the
 * build, the user is not root, the base image is pinned and runs the project's Node major.
 */

const run = promisify(execFile);
// The package is CommonJS (`module.exports = factory`); its typings declare an ES default export,
// which NodeNext resolution types as the module namespace.
const dockerignore = dockerignoreModule as unknown as () => Ignore;
const dockerfiles = ['Dockerfile.operator', 'Dockerfile.worker'] as const;
const APP_DIR = '/app';

type PackageJson = { engines?: { node?: string }; dependencies?: Record<string, string> };

async function loadModel(name: string): Promise<DockerfileModel> {
  return parseDockerfile(await readFile(join(repoRoot, name), 'utf8'));
}

function finalStage(model: DockerfileModel): DockerStage {
  const stage = model.stages.at(-1);
  if (!stage) throw new Error('no FROM in Dockerfile');
  return stage;
}

function stageByName(model: DockerfileModel, name: string): DockerStage | undefined {
  return model.stages.find((s) => s.name === name);
}

function workdir(stage: DockerStage): string | undefined {
  return stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args[0];
}

function runs(stage: DockerStage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.raw.replace(/\s+/g, ' '));
}

/** Node major allowed by package.json engines (">=20 <21" → 20); fails on a range spanning majors. */
function engineMajor(pkg: PackageJson): number {
  const range = pkg.engines?.node ?? '';
  const lower = /(?:>=|\^|~)?\s*(\d+)/.exec(range)?.[1];
  const upper = /<\s*(\d+)/.exec(range)?.[1];
  if (lower === undefined) throw new Error(`package.json engines.node "${range}" has no major version`);
  if (upper !== undefined && Number(upper) !== Number(lower) + 1) {
    throw new Error(`package.json engines.node "${range}" spans several majors`);
  }
  return Number(lower);
}

/** Absolute in-image paths that a stage's RUN steps produce under its WORKDIR. */
async function producedPaths(stage: DockerStage): Promise<string[]> {
  const dir = workdir(stage) ?? '/';
  const produced: string[] = [];
  const steps = runs(stage);
  if (steps.some((r) => /\bnpm ci\b/.test(r))) produced.push(posix.join(dir, 'node_modules'));
  if (steps.some((r) => /\bnpm run build\b/.test(r))) {
    const buildConfig = parseDocument(await readFile(join(repoRoot, 'tsconfig.build.json'), 'utf8')).toJS() as {
      compilerOptions?: { outDir?: string };
    };
    produced.push(posix.join(dir, buildConfig.compilerOptions?.outDir ?? 'dist'));
  }
  return produced;
}

describe('Dockerfiles', function () {
  let pkg: PackageJson;
  let ignore: Ignore;

  before(async function () {
    pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
    ignore = dockerignore().add(await readFile(join(repoRoot, '.dockerignore'), 'utf8'));
  });

  for (const name of dockerfiles) {
    describe(name, function () {
      let model: DockerfileModel;
      before(async function () {
        model = await loadModel(name);
      });

      it('is multi-stage, with a named build stage', function () {
        expect(model.stages.length).to.be.greaterThanOrEqual(2);
        expect(stageByName(model, 'build'), 'a stage named build').to.not.equal(undefined);
      });

      it('pins every base image to an exact Node release of the project’s major', function () {
        const major = engineMajor(pkg);
        const stageNames = new Set(model.stages.map((s) => s.name));
        for (const stage of model.stages) {
          if (stageNames.has(stage.image)) continue;
          expect(stage.image, 'FROM with unexpanded variable').to.not.match(/\$/);
          const match = /^(?:docker\.io\/library\/)?node:(\d+)\.(\d+)\.(\d+)-[a-z]+(?:-slim)?(@sha256:[a-f0-9]{64})?$/.exec(stage.image);
          expect(match, `base image "${stage.image}" must be node:<major>.<minor>.<patch>-<debian>`).to.not.equal(null);
          expect(Number(match?.[1]), `Node major of ${stage.image}`).to.equal(major);
          expect(stage.image).to.not.match(/:latest\b/);
        }
      });

      it('copies from the build context only paths that exist and .dockerignore lets through', async function () {
        let copies = 0;
        for (const stage of model.stages) {
          for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
            if (copy.flags.from !== undefined) continue;
            expect(copy.keyword, `line ${copy.line}: use COPY, not ADD`).to.equal('COPY');
            for (const source of copy.args.slice(0, -1)) {
              copies += 1;
              expect(existsSync(join(repoRoot, source)), `line ${copy.line}: ${source} exists in the repository`).to.equal(true);
              expect(ignore.ignores(source), `line ${copy.line}: ${source} is excluded by .dockerignore`).to.equal(false);
            }
          }
        }
        expect(copies).to.be.greaterThan(0);
      });

      it('copies from other stages only what those stages produce', async function () {
        for (const stage of model.stages) {
          for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' && i.flags.from !== undefined)) {
            const from = stageByName(model, copy.flags.from ?? '');
            expect(from, `line ${copy.line}: stage ${copy.flags.from}`).to.not.equal(undefined);
            const produced = await producedPaths(from as DockerStage);
            for (const source of copy.args.slice(0, -1)) {
              expect(produced, `line ${copy.line}: ${source} is produced by stage ${copy.flags.from}`).to.include(source);
            }
          }
        }
      });

      it('runs the build with npm ci + npm run build, and ships production dependencies only', function () {
        const build = stageByName(model, 'build') as DockerStage;
        expect(runs(build).join('\n')).to.match(/\bnpm ci\b/).and.to.match(/\bnpm run build\b/);
        const runtime = finalStage(model);
        const modulesCopy = runtime.instructions.find((i) => i.keyword === 'COPY' && i.args[0] === `${APP_DIR}/node_modules`);
        expect(modulesCopy, 'the runtime stage copies node_modules from a deps stage').to.not.equal(undefined);
        const deps = stageByName(model, modulesCopy?.flags.from ?? '') as DockerStage;
        expect(runs(deps).join('\n')).to.match(/npm ci [^\n]*--omit=dev/);
        expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.raw))).to.equal(false);
      });

      it('has ENTRYPOINT ["node", "/app/dist/cli.js"], and package.json beside dist/ (ESM, version)', function () {
        const runtime = finalStage(model);
        const entrypoint = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
        expect(entrypoint && execForm(entrypoint)).to.deep.equal(['node', `${APP_DIR}/dist/cli.js`]);
        expect(workdir(runtime)).to.equal(APP_DIR);
        const copiesPackageJson = runtime.instructions.some(
          (i) => i.keyword === 'COPY' && i.flags.from === undefined && i.args.slice(0, -1).includes('package.json'),
        );
        expect(copiesPackageJson, 'package.json copied into the runtime stage').to.equal(true);
      });

      it('runs as a numeric non-root user, the uid the chart expects', async function () {
        const user = finalStage(model).instructions.filter((i) => i.keyword === 'USER').at(-1);
        expect(user, 'USER in the final stage').to.not.equal(undefined);
        const [uid, gid] = (user?.args[0] ?? '').split(':');
        expect(uid).to.match(/^\d+$/, 'numeric uid, so that runAsNonRoot can verify it');
        expect(Number(uid)).to.not.equal(0);
        if (gid !== undefined) expect(Number(gid)).to.not.equal(0);
        const deployment = await readFile(join(repoRoot, 'charts/kennel/templates/deployment.yaml'), 'utf8');
        expect(deployment).to.include(`runAsUser: ${uid}`);
      });
    });
  }

  describe('Dockerfile.operator', function () {
    it('omits TensorFlow and prunes only packages the operator code never imports', async function () {
      const model = await loadModel('Dockerfile.operator');
      const deps = stageByName(model, 'deps') as DockerStage;
      const steps = runs(deps).join('\n');
      expect(steps).to.match(/npm ci [^\n]*--omit=optional/);
      const pruned = [...steps.matchAll(/node_modules\/(@?[a-z0-9._-]+)/g)].map((m) => m[1] as string);
      expect(pruned).to.include('@tensorflow');
      // What the image runs: dist/ is built by tsconfig.build.json, which leaves out *.test.ts.
      const sources = (await listTs([join(repoRoot, 'src/operator'), join(repoRoot, 'src/shared')])).filter((f) => !f.endsWith('.test.ts'));
      sources.push(join(repoRoot, 'src/cli.ts'));
      for (const file of sources) {
        const text = await readFile(file, 'utf8');
        for (const name of pruned) {
          const imported = new RegExp(`from ['"]${name.replace('/', '\\/')}(/[^'"]*)?['"]|import\\(['"]${name}`).test(text);
          expect(imported, `${file} imports ${name}, which Dockerfile.operator prunes`).to.equal(false);
        }
      }
    });
  });

  describe('Dockerfile.worker', function () {
    it('installs the optional @tensorflow/tfjs-node and checks that it loads', async function () {
      const model = await loadModel('Dockerfile.worker');
      const deps = stageByName(model, 'deps') as DockerStage;
      const steps = runs(deps).join('\n');
      expect(steps).to.match(/npm ci/).and.to.not.match(/--omit=optional/);
      expect(steps).to.include("require('@tensorflow/tfjs-node')");
      const optional = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> })
        .optionalDependencies;
      expect(optional).to.have.property('@tensorflow/tfjs-node');
    });
  });

  describe('the entry point', function () {
    this.timeout(240_000);
    let appDir: string;
    before(async function () {
      appDir = await mkdtemp(join(tmpdir(), 'kennel-ship-app-'));
    });
    after(async function () {
      await rm(appDir, { recursive: true, force: true });
    });

    it('is produced by the build (tsc -p tsconfig.build.json → dist/cli.js) and runs in the image layout', async function () {
      // The same compile as `npm run build`, into a temporary /app-like folder (package.json,
      // node_modules, dist/) so as not to race with a concurrent `npm run build`.
      const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
      const dist = join(appDir, 'dist');
      await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: repoRoot }).catch((err: unknown) => {
        const out = (err as { stdout?: string }).stdout ?? '';
        throw new Error(`the build (tsc -p tsconfig.build.json) fails:\n${out.split('\n').slice(0, 20).join('\n')}`);
      });
      expect(existsSync(join(dist, 'cli.js')), 'cli.js in the build output').to.equal(true);
      await copyFile(join(repoRoot, 'package.json'), join(appDir, 'package.json'));
      await symlink(join(repoRoot, 'node_modules'), join(appDir, 'node_modules'), 'dir');
      const { stdout } = await run(process.execPath, [join(dist, 'cli.js'), '--help'], { cwd: appDir });
      expect(stdout).to.match(/Usage: kennel/);
    });

    it('`kennel operator` loads with only what Dockerfile.operator’s deps stage installs', async function () {
      // Replays the deps stage's RUN steps (npm ci flags and pruning, read from the Dockerfile;
      // `npm cache clean` skipped: it would empty this machine's npm cache) in a fresh folder,
      // then starts the operator there without configuration: it must load its whole module
      // graph (command.ts imports main.ts statically) and stop at the configuration check.
      const dist = join(appDir, 'dist');
      expect(existsSync(join(dist, 'cli.js')), 'built by the test above').to.equal(true);
      const deps = stageByName(await loadModel('Dockerfile.operator'), 'deps') as DockerStage;
      const steps = runs(deps)
        .flatMap((r) => r.split('&&').map((c) => c.trim()))
        .filter((c) => c.length > 0 && !/^npm cache clean/.test(c));
      expect(steps.some((c) => c.startsWith('npm ci'))).to.equal(true);
      const operatorApp = join(appDir, 'operator-image');
      await mkdir(operatorApp);
      await copyFile(join(repoRoot, 'package.json'), join(operatorApp, 'package.json'));
      await copyFile(join(repoRoot, 'package-lock.json'), join(operatorApp, 'package-lock.json'));
      for (const step of steps) {
        const command = step.startsWith('npm ci') ? `${step} --prefer-offline --loglevel=error` : step;
        await run('sh', ['-c', command], { cwd: operatorApp, maxBuffer: 16 * 1024 * 1024 });
      }
      expect(existsSync(join(operatorApp, 'node_modules', '@tensorflow')), 'no TensorFlow in the operator image').to.equal(false);
      expect(existsSync(join(operatorApp, 'node_modules', 'typescript')), 'no dev dependencies').to.equal(false);
      await symlink(dist, join(operatorApp, 'dist'), 'dir');
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KENNEL_')));
      const result = await run(process.execPath, [join(operatorApp, 'dist', 'cli.js'), 'operator'], { cwd: operatorApp, env }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? '' }),
      );
      expect(result.stderr, 'a module the image lacks').to.not.match(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);
      expect(result.stderr).to.include('KENNEL_ARTIFACT_ROOT: required');
      expect(result.code).to.equal(2);
    });
  });
});

async function listTs(dirs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) files.push(join(entry.parentPath, entry.name));
    }
  }
  return files;
}

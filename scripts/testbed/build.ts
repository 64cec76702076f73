/**
 * `npm run testbed:build`: builds the test bed's binaries (kube-apiserver, kube-controller-manager,
 * kubectl, etcd, fake-gcs-server, helm) from the pinned Go wrapper modules beside this file into
 * `~/.cache/kennel/testbed/<version>/bin/` (override the root with `KENNEL_TESTBED_CACHE`).
 *
 * Idempotent: a binary already present for the version key is skipped, so a warm run takes well
 * under a second. Binaries are written under a temporary name and renamed, so an interrupted build
 * never leaves a half-written binary that a later run would trust.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { groupLdflags, testbedBinDir, testbedGroups, testbedVersion, wrapperRoot } from './layout.js';

const minimumGo = [1, 26] as const;

function log(message: string): void {
  process.stdout.write(`testbed:build ${message}\n`);
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Fails with a clear message when `go` is missing or too old. */
function checkGo(): string {
  const res = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new Error(
      `Go is required to build the test bed but \`go\` ${res.error ? 'was not found on PATH' : 'failed to run'}.\n` +
        `Install Go >= ${minimumGo.join('.')} (https://go.dev/dl/) and re-run \`npm run testbed:build\`.`,
    );
  }
  const version = res.stdout.trim();
  const m = /^go(\d+)\.(\d+)/.exec(version);
  if (m && (Number(m[1]) < minimumGo[0] || (Number(m[1]) === minimumGo[0] && Number(m[2]) < minimumGo[1]))) {
    throw new Error(`the test bed needs Go >= ${minimumGo.join('.')}, found ${version}`);
  }
  return version;
}

function runGoBuild(cwd: string, ldflags: readonly string[], args: string[], label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('go', ['build', '-trimpath', `-ldflags=${['-s', '-w', ...ldflags].join(' ')}`, ...args], {
      cwd,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const heartbeat = setInterval(() => log(`  ... still building ${label} (${formatDuration(Date.now() - started)})`), 30_000);
    child.on('error', (err) => {
      clearInterval(heartbeat);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new Error(`go build of ${label} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

export async function buildTestbed(): Promise<{ binDir: string; built: string[] }> {
  const goVersion = checkGo();
  const binDir = testbedBinDir();
  mkdirSync(binDir, { recursive: true });
  log(`version ${testbedVersion()} -> ${binDir} (${goVersion})`);
  const built: string[] = [];
  const started = Date.now();
  for (const { group, binaries } of testbedGroups) {
    const missing = binaries.filter((b) => !existsSync(join(binDir, b.name)));
    if (missing.length === 0) {
      log(`${group}: cached (${binaries.map((b) => b.name).join(', ')})`);
      continue;
    }
    const names = missing.map((b) => b.name).join(', ');
    const groupStart = Date.now();
    log(`${group}: building ${names} ...`);
    const tmp = mkdtempSync(join(binDir, '.build-'));
    try {
      // One binary per `go build -o <file>`: several main packages into a directory would name the
      // etcd binary after its module's last element (`v3`). Packages share the build cache anyway.
      for (const b of missing) {
        await runGoBuild(join(wrapperRoot, group), groupLdflags(group), ['-o', join(tmp, b.name), b.pkg], b.name);
        renameSync(join(tmp, b.name), join(binDir, b.name));
        built.push(b.name);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    log(`${group}: built ${names} in ${formatDuration(Date.now() - groupStart)}`);
  }
  log(`done in ${formatDuration(Date.now() - started)}${built.length ? ` (built ${built.join(', ')})` : ' (all cached)'}`);
  return { binDir, built };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  buildTestbed().catch((err: unknown) => {
    process.stderr.write(`testbed:build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

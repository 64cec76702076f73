/**
 * `npm run testbed:build`: builds the test bed's binaries (kube-apiserver, kube-controller-manager,
 * kubectl, etcd, fake-gcs-server, helm) from the pinned Go wrapper modules beside this file into
 * `~/.cache/kennel/testbed/<version>/bin/` (override the root with `KENNEL_TESTBED_CACHE`).
 *
 * Idempotent: a binary already present for the version key is skipped, so a warm run takes well
 * under a second. Binaries are written under a temporary name and renamed, so an interrupted build
 * never leaves a half-written binary that a later run would trust. Run as a command, it owns its
 * shutdown (local-cluster/shutdown.ts): interrupted by any signal, sent to it alone or to its
 * group, it stops the `go build` it started (its own process group) and removes its temporary
 * directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onExitCleanup } from '../../local-cluster/exit-hooks.js';
import { startForegroundProcess } from '../../local-cluster/managed-process.js';
import { ownShutdown, type Shutdown } from '../../local-cluster/shutdown.js';
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

async function runGoBuild(cwd: string, ldflags: readonly string[], args: string[], label: string, shutdown?: Shutdown): Promise<void> {
  const started = Date.now();
  const child = startForegroundProcess({
    name: `go build ${label}`,
    command: 'go',
    args: ['build', '-trimpath', `-ldflags=${['-s', '-w', ...ldflags].join(' ')}`, ...args],
    cwd,
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  const unregister = shutdown?.add(`go build ${label}`, () => child.stop(2_000)) ?? (() => undefined);
  const heartbeat = setInterval(() => log(`  ... still building ${label} (${formatDuration(Date.now() - started)})`), 30_000);
  try {
    const { code, signal } = await child.exited;
    if (code !== 0) throw new Error(`go build of ${label} failed (${signal ?? `exit ${code}`})`);
  } finally {
    clearInterval(heartbeat);
    unregister();
  }
}

/** Builds every missing binary; with `shutdown`, each `go build` is stopped when the command is interrupted. */
export async function buildTestbed(shutdown?: Shutdown): Promise<{ binDir: string; built: string[] }> {
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
    const unregisterTmp = onExitCleanup(() => rmSync(tmp, { recursive: true, force: true }));
    try {
      // One binary per `go build -o <file>`: several main packages into a directory would name the
      // etcd binary after its module's last element (`v3`). Packages share the build cache anyway.
      for (const b of missing) {
        await runGoBuild(join(wrapperRoot, group), groupLdflags(group), ['-o', join(tmp, b.name), b.pkg], b.name, shutdown);
        renameSync(join(tmp, b.name), join(binDir, b.name));
        built.push(b.name);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      unregisterTmp();
    }
    log(`${group}: built ${names} in ${formatDuration(Date.now() - groupStart)}`);
  }
  log(`done in ${formatDuration(Date.now() - started)}${built.length ? ` (built ${built.join(', ')})` : ' (all cached)'}`);
  return { binDir, built };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  buildTestbed(ownShutdown({ beforeStops: (why) => log(`${why}: stopping the build`) })).catch((err: unknown) => {
    process.stderr.write(`testbed:build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * `npm run cluster:up` / `npm run cluster:down` (`cluster.ts up|down|status`): the test bed as a
 * long-lived local cluster for a person. `up` starts a detached daemon that runs the test bed with
 * its state in `~/.kennel/cluster/` (override with `KENNEL_CLUSTER_DIR`), waits until it is ready
 * and prints the kubeconfig path; `down` stops it and everything it started.
 *
 * Who owns the daemon: `up`, until the cluster is ready. If `up` is interrupted (any signal, sent
 * to it alone or to its process group) or the cluster does not come up, `up` stops the daemon it
 * started, which stops everything it started. Once `up` has printed the cluster, the daemon is on
 * its own, by design, until `down` sends it SIGTERM (and SIGKILL after 30 s, on which the daemon's
 * orphan reaper still removes its processes and network).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownShutdown } from '../../local-cluster/shutdown.js';

export interface ClusterInfo {
  pid: number;
  kubeconfigPath: string;
  server: string;
  gcsEndpoint: string;
  podNetwork: string;
  dir: string;
}

export function clusterDir(): string {
  return process.env.KENNEL_CLUSTER_DIR ?? join(homedir(), '.kennel', 'cluster');
}

const readyFile = (dir: string): string => join(dir, 'ready.json');
const pidFile = (dir: string): string => join(dir, 'daemon.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function daemonPid(dir: string): number | undefined {
  if (!existsSync(pidFile(dir))) return undefined;
  const pid = Number(readFileSync(pidFile(dir), 'utf8').trim());
  return pid > 0 && alive(pid) ? pid : undefined;
}

function printInfo(info: ClusterInfo): void {
  process.stdout.write(
    [
      `Kennel local cluster is up (daemon pid ${info.pid}).`,
      `  kubeconfig:   ${info.kubeconfigPath}`,
      `  API server:   ${info.server}`,
      `  GCS emulator: ${info.gcsEndpoint}  (KENNEL_GCS_ENDPOINT)`,
      `  pod network:  ${info.podNetwork}`,
      `  logs:         ${info.dir}`,
      '',
      `  export KUBECONFIG=${info.kubeconfigPath}`,
      '  npm run cluster:down   # to stop it',
      '',
    ].join('\n'),
  );
}

/** SIGTERM to the daemon (it stops the cluster), SIGKILL if it is still there after `graceMs`. */
async function stopDaemon(pid: number, graceMs = 30_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function up(): Promise<void> {
  const shutdown = ownShutdown({ beforeStops: (why) => process.stderr.write(`cluster up: ${why}: stopping the cluster it was starting\n`) });
  const dir = clusterDir();
  mkdirSync(dir, { recursive: true });
  const running = daemonPid(dir);
  if (running && existsSync(readyFile(dir))) {
    printInfo(JSON.parse(readFileSync(readyFile(dir), 'utf8')) as ClusterInfo);
    return;
  }
  if (running) throw new Error(`a cluster daemon (pid ${running}) is starting or stuck; run \`npm run cluster:down\` first`);
  rmSync(readyFile(dir), { force: true });
  const logPath = join(dir, 'daemon.log');
  const out = openSync(logPath, 'w');
  const daemon = fileURLToPath(new URL('./cluster-daemon.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', daemon, dir], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the cluster daemon (log ${logPath})`);
  const disown = shutdown.add('cluster daemon', () => stopDaemon(pid));
  process.stdout.write(`starting the Kennel local cluster (daemon pid ${pid}, log ${logPath}) ...\n`);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (existsSync(readyFile(dir))) {
      // Up: from here on the daemon runs on its own until `cluster:down`.
      disown();
      printInfo(JSON.parse(readFileSync(readyFile(dir), 'utf8')) as ClusterInfo);
      return;
    }
    if (!alive(pid)) break;
    await sleep(250);
  }
  await shutdown.run();
  const log = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n') : '';
  throw new Error(`the cluster did not come up; last lines of ${logPath}:\n${log}`);
}

async function down(): Promise<void> {
  const dir = clusterDir();
  const pid = daemonPid(dir);
  if (!pid) {
    rmSync(readyFile(dir), { force: true });
    process.stdout.write('no Kennel local cluster is running\n');
    return;
  }
  await stopDaemon(pid);
  rmSync(readyFile(dir), { force: true });
  rmSync(pidFile(dir), { force: true });
  process.stdout.write(`Kennel local cluster stopped (state in ${dir})\n`);
}

function status(): void {
  const dir = clusterDir();
  const pid = daemonPid(dir);
  if (pid && existsSync(readyFile(dir))) printInfo(JSON.parse(readFileSync(readyFile(dir), 'utf8')) as ClusterInfo);
  else process.stdout.write(pid ? `starting (daemon pid ${pid})\n` : 'not running\n');
}

const action = process.argv[2];
const actions: Record<string, () => Promise<void> | void> = { up, down, status };
const fn = action ? actions[action] : undefined;
if (!fn) {
  process.stderr.write('usage: cluster.ts up|down|status\n');
  process.exit(2);
}
Promise.resolve(fn()).catch((err: unknown) => {
  process.stderr.write(`cluster ${action} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * The process behind `npm run cluster:up`: runs the test bed in `<dir>/run` until SIGTERM/SIGINT,
 * then stops it. Writes `<dir>/daemon.pid` at once and `<dir>/ready.json` (ClusterInfo) when ready.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestbed } from '../../local-cluster/testbed.js';
import type { ClusterInfo } from './cluster.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: cluster-daemon.ts <state dir>\n');
  process.exit(2);
}
writeFileSync(join(dir, 'daemon.pid'), String(process.pid));
const runDir = join(dir, 'run');
rmSync(runDir, { recursive: true, force: true });

let stopping = false;
const tb = await startTestbed({ dir: runDir, verbose: true });
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`cluster daemon: ${signal}, stopping\n`);
  await tb.stop();
  rmSync(join(dir, 'ready.json'), { force: true });
  rmSync(join(dir, 'daemon.pid'), { force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

const kubeconfigPath = join(dir, 'kubeconfig');
copyFileSync(tb.kubeconfigPath, kubeconfigPath);
const info: ClusterInfo = {
  pid: process.pid,
  kubeconfigPath,
  server: tb.server,
  gcsEndpoint: tb.gcsEndpoint,
  podNetwork: tb.network.mode === 'netns' ? tb.network.podCidr : `loopback (${tb.network.fallbackReason ?? ''})`,
  dir: runDir,
};
writeFileSync(join(dir, 'ready.json'), JSON.stringify(info, null, 2));
process.stderr.write(`cluster daemon: ready, kubeconfig ${kubeconfigPath}\n`);
// Stay alive: the node agent's timers keep the event loop busy, this is belt and braces.
setInterval(() => undefined, 60_000);

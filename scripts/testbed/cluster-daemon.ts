/**
 * The process behind `npm run cluster:up`: runs the test bed in `<dir>/run` until SIGTERM (what
 * `npm run cluster:down` sends), SIGINT or SIGHUP, then stops it and everything it started. Writes
 * `<dir>/daemon.pid` at once and `<dir>/ready.json` (ClusterInfo) when ready.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownShutdown } from '../../local-cluster/shutdown.js';
import { startTestbed } from '../../local-cluster/testbed.js';
import type { ClusterInfo } from './cluster.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: cluster-daemon.ts <state dir>\n');
  process.exit(2);
}
// Before anything starts: a signal during start-up stops what has started so far.
const shutdown = ownShutdown({ beforeStops: (why) => process.stderr.write(`cluster daemon: ${why}, stopping\n`) });
writeFileSync(join(dir, 'daemon.pid'), String(process.pid));
shutdown.add('state files', async () => {
  rmSync(join(dir, 'ready.json'), { force: true });
  rmSync(join(dir, 'daemon.pid'), { force: true });
});
const runDir = join(dir, 'run');
rmSync(runDir, { recursive: true, force: true });

const tb = await startTestbed({ dir: runDir, verbose: true }).catch(async (err: unknown) => {
  process.stderr.write(`cluster daemon: start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown.run();
  process.exit(1);
});
shutdown.add('local cluster', () => tb.stop());

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
// Stay alive until a signal: the node agent's timers keep the event loop busy, this is belt and braces.
setInterval(() => undefined, 60_000);
await shutdown.signalled;

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process.js';
import { freePort, waitFor } from './net-utils.js';
import { testbedBin } from './testbed-bin.js';

export interface Etcd {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly process: ManagedProcess;
}

/**
 * A single-member etcd on loopback for one test bed. `--unsafe-no-fsync` because the data dies with
 * the test bed anyway and fsync dominates write latency on shared CI disks.
 */
export async function startEtcd(opts: { dir: string; timeoutMs?: number }): Promise<Etcd> {
  const bin = testbedBin('etcd');
  const dataDir = join(opts.dir, 'etcd-data');
  mkdirSync(dataDir, { recursive: true });
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = startProcess({
    name: 'etcd',
    command: bin,
    logPath: join(opts.dir, 'etcd.log'),
    args: [
      '--name', 'testbed',
      '--data-dir', dataDir,
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `testbed=${peer}`,
      '--unsafe-no-fsync',
      '--log-level', 'warn',
    ],
  });
  try {
    await waitFor(
      async () => {
        const res = await fetch(`${endpoint}/health`);
        const body = (await res.json()) as { health?: string };
        return body.health === 'true' ? true : undefined;
      },
      {
        timeoutMs: opts.timeoutMs ?? 20_000,
        what: `etcd on ${endpoint} (log: ${proc.logPath})`,
        abort: () => (proc.hasExited() ? new Error(`etcd exited during start-up (log: ${proc.logPath})`) : undefined),
      },
    );
  } catch (err) {
    // Never leave a half-started process behind.
    await proc.stop(2_000);
    throw err;
  }
  return { endpoint, process: proc };
}

/**
 * Compacts etcd's history up to its current revision (what kube-apiserver does every 5 minutes,
 * done now): a watch resuming from any older resourceVersion gets 410 Gone. Through etcd's JSON
 * gateway, so no etcdctl is needed. With `mark`, first writes that key (outside kube-apiserver's
 * /registry prefix) so the revision moves past everything a client has seen — done while
 * kube-apiserver is down, no watch bookmark can carry the new revision to a client, and every
 * resume is certain to be too old. Resolves with the revision compacted to.
 */
export async function compactEtcd(endpoint: string, options: { mark?: string } = {}): Promise<number> {
  const post = async (path: string, body: unknown): Promise<unknown> => {
    const res = await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  if (options.mark !== undefined) {
    await post('/v3/kv/put', { key: Buffer.from(options.mark).toString('base64'), value: Buffer.from(new Date().toISOString()).toString('base64') });
  }
  // A range read of any key answers with the store's current revision in its header.
  const range = (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), count_only: true })) as { header?: { revision?: string } };
  const revision = Number(range.header?.revision);
  if (!Number.isSafeInteger(revision) || revision <= 0) throw new Error(`etcd answered no revision: ${JSON.stringify(range)}`);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

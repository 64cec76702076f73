import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from './managed-process.js';
import { freePort, waitFor } from './net-utils.js';
import { testbedBin } from './testbed-bin.js';

export interface FakeGcs {
  /** `http://127.0.0.1:PORT` (or the `host` asked for): pass as `apiEndpoint` to @google-cloud/storage, or as `KENNEL_GCS_ENDPOINT`. */
  readonly endpoint: string;
  /** The server's log file. */
  readonly logPath: string;
  stop(): Promise<void>;
}

export interface StartFakeGcsOptions {
  /** Directory for the log (and the data with `backend: 'filesystem'`); a fresh temp dir by default, removed on stop. */
  dir?: string;
  /** `memory` (default, fast) or `filesystem` (data kept under `dir/data`). */
  backend?: 'memory' | 'filesystem';
  /** Address to listen on: 127.0.0.1 (default), or the test bed's pod-network address so pods reach it too. */
  host?: string;
  startTimeoutMs?: number;
}

/**
 * Starts fake-gcs-server over plain HTTP on a random loopback port.
 *
 * `-public-host` and `-external-url` are set to the very address clients use, because the server
 * writes them into resumable-upload `Location` headers and media links; with anything else,
 * @google-cloud/storage's resumable uploads would be sent elsewhere.
 */
export async function startFakeGcs(opts: StartFakeGcsOptions = {}): Promise<FakeGcs> {
  const bin = testbedBin('fake-gcs-server');
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kennel-fake-gcs-'));
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, 'fake-gcs-server.log');
  const backend = opts.backend ?? 'memory';
  let lastError: unknown;
  // The free port may be taken between probing and binding: retry with a new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const host = opts.host ?? '127.0.0.1';
    const port = await freePort(host);
    const hostPort = `${host}:${port}`;
    const endpoint = `http://${hostPort}`;
    const args = [
      '-scheme', 'http',
      '-host', host,
      '-port', String(port),
      '-public-host', hostPort,
      '-external-url', endpoint,
      '-backend', backend,
      '-log-level', 'warn',
    ];
    if (backend === 'filesystem') args.push('-filesystem-root', join(dir, 'data'));
    const proc = startProcess({ name: 'fake-gcs-server', command: bin, args, logPath });
    try {
      await waitFor(
        async () => {
          const res = await fetch(`${endpoint}/storage/v1/b`);
          await res.body?.cancel();
          return res.ok ? true : undefined;
        },
        {
          timeoutMs: opts.startTimeoutMs ?? 15_000,
          what: `fake-gcs-server on ${endpoint} (log: ${logPath})`,
          abort: () => (proc.hasExited() ? new Error(`fake-gcs-server exited during start-up (log: ${logPath})`) : undefined),
        },
      );
    } catch (err) {
      lastError = err;
      await proc.stop(1_000);
      continue;
    }
    return {
      endpoint,
      logPath,
      async stop() {
        await proc.stop(2_000);
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error('fake-gcs-server did not start');
}

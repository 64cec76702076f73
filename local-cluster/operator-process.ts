import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { freePort, waitFor } from './net-utils.js';

export interface OperatorProcess {
  readonly logPath: string;
  readonly healthUrl: string;
  stop(): Promise<void>;
}

/**
 * `kennel operator` from the built CLI (`dist/cli.js`, the same code the operator image runs),
 * as its own process against the test bed, configured only through its documented environment
 * variables. Resolves once its /readyz answers 200 (caches synced).
 */
export async function startOperatorProcess(opts: { cliPath: string; logPath: string; env: Record<string, string> }): Promise<OperatorProcess> {
  const port = await freePort();
  const log = createWriteStream(opts.logPath, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, [opts.cliPath, 'operator'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KENNEL_HEALTH_PORT: String(port), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: path.dirname(opts.logPath),
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const healthUrl = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    await waitFor(() => fetch(`${healthUrl}/readyz`).then((r) => (r.ok ? true : undefined)), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the operator's /readyz on ${healthUrl} (log: ${opts.logPath})`,
      abort: () => (child.exitCode !== null ? new Error(`the operator exited with code ${child.exitCode} (log: ${opts.logPath})`) : undefined),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { logPath: opts.logPath, healthUrl, stop };
}

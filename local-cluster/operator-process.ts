import path from 'node:path';
import { startProcess, type ProcessExit } from './managed-process.js';
import { freePort, waitFor } from './net-utils.js';

export interface OperatorProcess {
  readonly pid: number;
  readonly logPath: string;
  readonly healthUrl: string;
  /** SIGTERM (the operator releases its lease and exits), SIGKILL after 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * `kennel operator` from the built CLI (`dist/cli.js`, the same code the operator image runs),
 * as its own process against the local cluster, configured only through its documented
 * environment variables. Resolves once its /readyz answers 200 (caches synced).
 *
 * It runs as a managed process (managed-process.ts): in a process group of its own that the exit
 * hooks SIGKILL if this process ends without stopping it, so it never outlives the command that
 * started it, whoever interrupts that command.
 */
export async function startOperatorProcess(opts: { cliPath: string; logPath: string; env: Record<string, string> }): Promise<OperatorProcess> {
  const port = await freePort();
  const proc = startProcess({
    name: 'kennel operator',
    command: process.execPath,
    args: [opts.cliPath, 'operator'],
    logPath: opts.logPath,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KENNEL_HEALTH_PORT: String(port), ...opts.env },
    cwd: path.dirname(opts.logPath),
  });
  let exit: ProcessExit | undefined;
  void proc.exited.then((e) => (exit = e));
  const healthUrl = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
  };
  try {
    await waitFor(() => fetch(`${healthUrl}/readyz`).then((r) => (r.ok ? true : undefined)), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the operator's /readyz on ${healthUrl} (log: ${opts.logPath})`,
      abort: () => (exit ? new Error(`the operator exited with ${exit.signal ?? `code ${exit.code}`} (log: ${opts.logPath})`) : undefined),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: proc.pid, logPath: opts.logPath, healthUrl, stop };
}

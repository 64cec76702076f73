import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { onExitCleanup } from './exit-hooks.js';
import { reapGroupOnDeath } from './orphan-reaper.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Combined stdout and stderr. */
  readonly logPath: string;
  /** Resolves when the process (the group's leader) has exited. */
  readonly exited: Promise<ProcessExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

export interface StartProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Starts a long-lived child in its own process group with its output appended to `logPath`.
 * Signals go to the group, so helpers it forks die with it; an exit hook SIGKILLs the group if the
 * test process ends (or is interrupted) before `stop()` was called.
 */
export function startProcess(opts: StartProcessOptions): ManagedProcess {
  const fd = openSync(opts.logPath, 'a');
  let child;
  try {
    child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const spawned = child;
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    spawned.on('error', (err) => {
      exit = { code: 127, signal: null };
      process.stderr.write(`local cluster: could not start ${opts.name}: ${err.message}\n`);
      resolve(exit);
    });
    spawned.on('exit', (code, signal) => {
      exit = { code, signal };
      // The leader is gone; take any stragglers of its group with it.
      if (spawned.pid !== undefined) killGroup(spawned.pid, 'SIGKILL');
      resolve(exit);
    });
  });
  spawned.unref();
  const pid = spawned.pid ?? -1;
  const unregister = onExitCleanup(() => {
    if (pid > 0) killGroup(pid, 'SIGKILL');
  });
  const unreap = pid > 0 ? reapGroupOnDeath(pid) : () => undefined;
  void exited.then(() => {
    unregister();
    unreap();
  });

  return {
    name: opts.name,
    pid,
    logPath: opts.logPath,
    exited,
    hasExited: () => exit !== undefined,
    async stop(graceMs = 5_000) {
      if (exit) return exit;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { onExitCleanup } from './exit-hooks.js';
import { reapGroupOnDeath } from './orphan-reaper.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child in a process group of its own, stopped with the group (see startProcess). */
export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process (the group's leader) has exited. */
  readonly exited: Promise<ProcessExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

export interface ManagedProcess extends ProcessHandle {
  /** Combined stdout and stderr. */
  readonly logPath: string;
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
 * Signals go to the group, so helpers it forks die with it; an exit hook SIGKILLs the group if
 * this process ends (or is interrupted) before `stop()` was called, and the orphan reaper does if
 * this process is SIGKILLed. The group is a session of its own, so a terminal's Ctrl-C reaches
 * only the command that started it, whose shutdown owner (shutdown.ts) stops it.
 */
export function startProcess(opts: StartProcessOptions): ManagedProcess {
  const fd = openSync(opts.logPath, 'a');
  try {
    // Unreferenced: a server the process merely started must not keep it alive.
    return { ...startGroup(opts, ['ignore', fd, fd], false), logPath: opts.logPath };
  } finally {
    closeSync(fd);
  }
}

/**
 * Like startProcess, for a child that the process waits for and whose output the person at the
 * terminal should see (a build): it writes to this process's stdout and stderr, and keeps this
 * process alive until it exits.
 */
export function startForegroundProcess(opts: Omit<StartProcessOptions, 'logPath'>): ProcessHandle {
  return startGroup(opts, ['ignore', 'inherit', 'inherit'], true);
}

function startGroup(opts: Omit<StartProcessOptions, 'logPath'>, stdio: StdioOptions, keepAlive: boolean): ProcessHandle {
  const spawned = spawn(opts.command, [...opts.args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio,
  });
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
  if (!keepAlive) spawned.unref();
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

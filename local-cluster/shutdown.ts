import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { onExitCleanup, ownSignals } from './exit-hooks.js';

export interface Shutdown {
  /**
   * Registers a graceful stop for something the command started (the local cluster, the operator,
   * a proxy, a child process). Stops run last-registered first, each once; one that throws does
   * not keep the others from running. Returns a function that unregisters it (for something the
   * command stopped itself, or handed over to someone else).
   */
  add(name: string, stop: () => Promise<unknown>): () => void;
  /**
   * Adopts a plain child process (one spawned with pipes the command reads, not a managed process
   * group): its stop is SIGTERM, SIGKILL after `graceMs` (default 5 s), and an exit hook SIGKILLs
   * it should this process end first. Both are dropped when the child exits. With `group`, the
   * signals go to the child's process group (spawn it with `detached: true`), for a child that
   * runs the real work in a child of its own (`/usr/bin/time`, a shell).
   */
  adopt(name: string, child: ChildProcess, opts?: { graceMs?: number; group?: boolean }): void;
  /** Resolves with the first SIGINT, SIGTERM or SIGHUP (for "press Ctrl-C to stop"). */
  readonly signalled: Promise<NodeJS.Signals>;
  /** That signal once it has arrived (an error then is most likely the teardown's doing, not a failure). */
  interruptedBy(): NodeJS.Signals | undefined;
  /** Runs every registered stop; every call gets the same promise. */
  run(): Promise<void>;
}

export interface ShutdownOptions {
  /** How long the graceful stops may take after a signal before everything is killed (default 60 s). */
  graceMs?: number;
  /** Where to say what is happening (default: stderr). */
  say?: (line: string) => void;
  /** Called once when the stops begin, with why: the signal's name, or 'requested' for run(). */
  beforeStops?: (why: string) => void;
}

/**
 * Makes the calling command the one owner of its shutdown, so that every child it started is
 * stopped whichever signal arrives and whoever sends it: Ctrl-C to the whole process group, or
 * SIGINT, SIGTERM or SIGHUP to this process alone (`timeout -s INT`, a supervisor, `kill`).
 *
 * On the first signal the registered stops run, then the process exits with 128 + the signal's
 * number, and that exit runs the exit hooks (exit-hooks.ts), which SIGKILL any process group of
 * the local cluster still alive and remove its network. A signal that arrives while stopping
 * (npm forwards the terminal's Ctrl-C to its child, so one Ctrl-C under `npm run` arrives twice)
 * does not cut the graceful stop short; `graceMs` bounds it. Call once per process, before
 * starting children; nothing else in the process may listen to those signals.
 */
export function ownShutdown(opts: ShutdownOptions = {}): Shutdown {
  const say = opts.say ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const graceMs = opts.graceMs ?? 60_000;
  const stops: { name: string; stop: () => Promise<unknown> }[] = [];
  let running: Promise<void> | undefined;
  let first: NodeJS.Signals | undefined;
  let resolveSignalled: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (resolveSignalled = resolve));

  const run = (why = 'requested'): Promise<void> =>
    (running ??= (async () => {
      opts.beforeStops?.(why);
      while (stops.length > 0) {
        const next = stops.pop() as (typeof stops)[number];
        try {
          await next.stop();
        } catch (err) {
          say(`stopping ${next.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })());

  ownSignals((signal) => {
    if (first) {
      say(`${signal}: already stopping (after ${first}); everything is killed if that takes over ${Math.round(graceMs / 1000)}s`);
      return;
    }
    first = signal;
    resolveSignalled(signal);
    const code = 128 + (osConstants.signals[signal] ?? 0);
    const deadline = setTimeout(() => {
      say(`stopping took over ${Math.round(graceMs / 1000)}s: killing what is left`);
      process.exit(code);
    }, graceMs);
    void run(signal).finally(() => {
      clearTimeout(deadline);
      process.exit(code);
    });
  });

  const add = (name: string, stop: () => Promise<unknown>): (() => void) => {
    const entry = { name, stop };
    stops.push(entry);
    return () => {
      const i = stops.indexOf(entry);
      if (i >= 0) stops.splice(i, 1);
    };
  };

  return {
    add,
    adopt(name, child, { graceMs = 5_000, group = false } = {}) {
      const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
      if (gone() || child.pid === undefined) return;
      const pid = child.pid;
      const kill = (signal: NodeJS.Signals): void => {
        try {
          if (group) process.kill(-pid, signal);
          else child.kill(signal);
        } catch {
          // Already gone.
        }
      };
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const unhook = onExitCleanup(() => kill('SIGKILL'));
      const unregister = add(name, async () => {
        if (gone()) return;
        kill('SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      });
      void exited.then(() => {
        unhook();
        unregister();
      });
    },
    signalled,
    interruptedBy: () => first,
    run,
  };
}

/**
 * Synchronous clean-up that must run however the process ends: normally, on an uncaught failure,
 * on `process.exit()`, or on SIGINT/SIGTERM/SIGHUP (Ctrl-C, a CI timeout, `timeout -s INT`, a
 * closed terminal). Hooks run last-registered first, each at most once; a hook that throws does
 * not stop the others. The local cluster registers here what must never outlive the process:
 * every process group it started, its network namespaces and bridge, its temporary directories.
 *
 * This module holds the process's only signal listeners for the local cluster. What a signal
 * does depends on whether the process has a shutdown owner (shutdown.ts, taken by commands such
 * as `npm run demo`):
 * - with one, the signal is handed to it, and the owner alone decides: it stops everything it
 *   started gracefully and then exits, which runs the hooks;
 * - without one (a test process), the hooks run at once and the signal is re-raised with the
 *   default disposition so that the process still dies of it — unless someone else (mocha)
 *   also listens, in which case they decide.
 */
type Hook = () => void;
type SignalOwner = (signal: NodeJS.Signals) => void;

/** The signals that end a process unless handled, and on which clean-up must run. */
export const shutdownSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const satisfies readonly NodeJS.Signals[];

const hooks = new Set<Hook>();
let installed = false;
let owner: SignalOwner | undefined;

/** Runs every registered hook now, last registered first (each at most once). */
export function runExitHooks(): void {
  for (const hook of [...hooks].reverse()) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // Best effort: the remaining hooks still run.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (owner) {
    owner(signal);
    return;
  }
  runExitHooks();
  process.removeListener(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runExitHooks);
  for (const signal of shutdownSignals) process.on(signal, onSignal);
}

/** Registers `hook`; returns a function that unregisters it (call it after a normal clean-up). */
export function onExitCleanup(hook: Hook): () => void {
  install();
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

/**
 * Hands every SIGINT, SIGTERM and SIGHUP of this process to `handler` (see shutdown.ts). A
 * process has at most one owner: a second call throws.
 */
export function ownSignals(handler: SignalOwner): void {
  if (owner) throw new Error('this process already has a shutdown owner');
  owner = handler;
  install();
  // Listeners removed by a signal handled before the owner came are put back.
  for (const signal of shutdownSignals) if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal);
}

/**
 * Synchronous clean-up that must run however the test process ends: normally, on an uncaught
 * failure, or on SIGINT/SIGTERM (Ctrl-C in mocha, a CI timeout). Hooks run last-registered first,
 * each at most once; a hook that throws does not stop the others.
 *
 * On a signal the hooks run and the signal is then re-raised with the default disposition, so the
 * process still dies of it — unless someone else (mocha) also listens, in which case they decide.
 */
type Hook = () => void;

const hooks = new Set<Hook>();
let installed = false;

function runAll(): void {
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
  runAll();
  process.removeListener(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/** Registers `hook`; returns a function that unregisters it (call it after a normal clean-up). */
export function onExitCleanup(hook: Hook): () => void {
  install();
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

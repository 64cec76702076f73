import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { AgentLog } from './agent-log.js';

export interface ReconcileLoop {
  /** No pass starts after this; a pass in flight finishes on its own (its owner checks for stop). */
  stop(): void;
}

export interface ReconcileLoopOptions {
  kubeConfig: KubeConfig;
  /** One full reconcile pass. */
  pass(): Promise<void>;
  log: AgentLog;
  /** A pass runs at least this often (default 2 s). */
  periodMs?: number;
  /** A pass running longer than this is logged once (default 20 s; one normally takes milliseconds). */
  slowPassMs?: number;
}

/**
 * Level-based triggering, as a controller's: every pod watch event and a periodic tick ask for a
 * full pass; asks that come while one runs collapse into one more pass. The watch is restarted
 * whenever it ends. A pass that never ends would keep every pod from being started, so one that
 * runs long is logged.
 */
export async function startReconcileLoop(opts: ReconcileLoopOptions): Promise<ReconcileLoop> {
  const { log } = opts;
  const slowPassMs = opts.slowPassMs ?? 20_000;
  let stopped = false;
  let running = false;
  let dirty = false;
  let passStartedAt = 0;
  let slowPassLogged = false;
  const kick = (): void => {
    if (stopped) return;
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    void (async () => {
      do {
        dirty = false;
        passStartedAt = Date.now();
        slowPassLogged = false;
        try {
          await opts.pass();
        } catch (err) {
          if (!stopped) log('reconcile failed', { error: String(err) });
        }
      } while (dirty && !stopped);
      running = false;
    })();
  };

  const watch = new Watch(opts.kubeConfig);
  let watchReq: { abort(): void } | undefined;
  const startWatch = async (): Promise<void> => {
    if (stopped) return;
    try {
      watchReq = await watch.watch(
        '/api/v1/pods',
        { allowWatchBookmarks: false },
        () => kick(),
        () => {
          if (!stopped) setTimeout(() => void startWatch(), 500);
        },
      );
    } catch {
      if (!stopped) setTimeout(() => void startWatch(), 1_000);
    }
  };
  await startWatch();
  const ticker = setInterval(() => {
    if (running && !slowPassLogged && Date.now() - passStartedAt > slowPassMs) {
      slowPassLogged = true;
      log('reconcile pass still running', { ms: Date.now() - passStartedAt });
    }
    kick();
  }, opts.periodMs ?? 2_000);
  kick();

  return {
    stop() {
      stopped = true;
      clearInterval(ticker);
      watchReq?.abort();
    },
  };
}

import { setTimeout } from 'node:timers';
import { createLogger } from '../shared/logger.js';
import { parseServeConfig, type ServeFlags } from './config.js';
import { startServe } from './server.js';

/**
 * `kennel serve`: the composition root of the inference server. Exits 1 when the model cannot
 * be loaded (after `failedExitSeconds`, so /readyz can say why meanwhile) and 0 after a
 * graceful SIGTERM/SIGINT shutdown.
 */
export async function run(flags: ServeFlags): Promise<void> {
  const logger = createLogger({ name: 'serve' });
  const config = parseServeConfig(flags);
  // Request errors are answered by the koa middleware; anything escaping it is a bug: log it
  // as one JSON line (not a bare stack on stderr) and exit so the orchestrator restarts us.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  const handle = await startServe(config, { logger });

  let exiting = false;
  const stop = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'signal received');
    handle.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  if (!(await handle.loaded) && !exiting) {
    const state = handle.deps.readiness.state;
    logger.error({ exitInSeconds: config.failedExitSeconds, reason: state.phase === 'failed' ? state.reason : state.phase }, 'model not loaded; exiting after the grace period');
    setTimeout(() => {
      if (exiting) return;
      exiting = true;
      void handle.shutdown().finally(() => process.exit(1));
    }, config.failedExitSeconds * 1000);
  }
}


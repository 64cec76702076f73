import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../shared/logger.js';
import { ConfigError, loadOperatorConfig, type OperatorFlags } from './config.js';
import { startOperator } from './main.js';

/**
 * `kennel operator`: parse configuration, start the operator, and stop it gracefully on SIGTERM
 * or SIGINT (in-flight reconciles finish, the lease is released so a standby takes over at
 * once). Losing the lease exits with status 1, as controller-runtime does: the Deployment
 * restarts the pod, which then campaigns as a standby.
 */
export async function run(flags: OperatorFlags): Promise<void> {
  let config;
  try {
    config = loadOperatorConfig(process.env, flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, name: 'operator' });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const operator = await startOperator({
    config,
    kubeConfig,
    logger,
    podEnv: process.env,
    onLostLeadership: () => {
      logger.fatal({}, 'leader lease lost; exiting');
      process.exit(1);
    },
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown requested');
    const force = setTimeout(() => {
      logger.error({}, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    operator
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeObject } from '../kube/client.js';
import type { Controller } from './controller.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import type { Informer } from './informer.js';
import type { LeaderElector } from './leader-election.js';

export interface ManagerOptions {
  logger: Logger;
  registry: Registry;
  /** Health/metrics port; 0 picks a free one; undefined starts no server. */
  healthPort?: number;
  healthHost?: string;
  /** Undefined: leader election off (this replica always leads). */
  leaderElector?: (callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void }) => LeaderElector;
  /** Called after the controllers stopped because the lease was lost (main exits the process). */
  onLostLeadership?: () => void;
  onLeaderChange?: (leading: boolean) => void;
}

/**
 * Runs informers, controllers, leader election and the health server, in controller-runtime's
 * order: caches start on every replica (a standby keeps warm caches, so failover does not wait
 * for a relist); controllers start only while leading and only once every cache has synced;
 * losing the lease stops the controllers and hands over to `onLostLeadership` (exit, as
 * controller-runtime does: a process that has lost the lease must not keep acting on it).
 */
export interface Manager {
  addInformer(informer: Informer<KubeObject>): void;
  addController(controller: Controller): void;
  start(): Promise<void>;
  /** Graceful: stops controllers (in-flight reconciles finish), releases the lease, stops caches. */
  stop(): Promise<void>;
  isLeading(): boolean;
  /** What keeps /readyz from answering 200. */
  notReady(): string[];
  readonly healthPort: number | undefined;
}

export function createManager(options: ManagerOptions): Manager {
  const logger = options.logger.child({ component: 'manager' });
  const informers: Array<Informer<KubeObject>> = [];
  const controllers: Controller[] = [];
  let health: HealthServer | undefined;
  let elector: LeaderElector | undefined;
  let leading = false;
  let controllersRunning = false;
  let stopping = false;

  const notReady = () => informers.filter((i) => !i.hasSynced()).map((i) => `informer ${i.resource.plural}`);

  async function startControllers(): Promise<void> {
    await Promise.all(informers.map((i) => i.start()));
    if (stopping || !leading) return;
    logger.info({ controllers: controllers.map((c) => c.name) }, 'caches synced; starting controllers');
    controllersRunning = true;
    for (const c of controllers) c.start();
  }

  async function stopControllers(): Promise<void> {
    if (!controllersRunning) return;
    controllersRunning = false;
    await Promise.all(controllers.map((c) => c.stop()));
  }

  const self: Manager = {
    addInformer: (i) => void informers.push(i),
    addController: (c) => void controllers.push(c),
    get healthPort() {
      return health?.port;
    },
    isLeading: () => leading,
    notReady,
    async start() {
      if (options.healthPort !== undefined) {
        health = await startHealthServer({ port: options.healthPort, host: options.healthHost, registry: options.registry, notReady });
        logger.info({ port: health.port }, 'health server listening');
      }
      for (const i of informers) void i.start();
      if (!options.leaderElector) {
        leading = true;
        options.onLeaderChange?.(true);
        await startControllers();
        return;
      }
      elector = options.leaderElector({
        onStartedLeading: () => {
          leading = true;
          options.onLeaderChange?.(true);
          void startControllers().catch((err: unknown) => logger.error({ err }, 'controllers failed to start'));
        },
        onStoppedLeading: () => {
          leading = false;
          options.onLeaderChange?.(false);
          logger.error({}, 'leadership lost; stopping controllers');
          void stopControllers().finally(() => options.onLostLeadership?.());
        },
      });
      elector.run();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      logger.info({}, 'shutting down');
      await stopControllers();
      if (elector) await elector.release();
      leading = false;
      options.onLeaderChange?.(false);
      await Promise.all(informers.map((i) => i.stop()));
      await health?.close();
      logger.info({}, 'stopped');
    },
  };
  return self;
}

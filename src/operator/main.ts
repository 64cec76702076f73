import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { OperatorConfig } from './config.js';
import type { Caches, ReconcilerDeps } from './deps.js';
import { createKubeClient, type KubeClient, type KubeObject } from './kube/client.js';
import { createDiscovery } from './kube/discovery.js';
import { createEventRecorder } from './kube/events.js';
import { controllerOwnerName } from './kube/owner.js';
import { Resources, type ResourceRef } from './kube/resources.js';
import { createOperatorMetrics, type ControllerName, type OperatorMetrics } from './metrics.js';
import { systemClock, type Clock } from './runtime/clock.js';
import { createController, type Controller, type Reconcile } from './runtime/controller.js';
import { createInformer, type Informer } from './runtime/informer.js';
import { createLeaderElector } from './runtime/leader-election.js';
import { createManager, type Manager } from './runtime/manager.js';
import { Labels, MANAGED_BY } from './shared/labels.js';
import { inferenceServiceReconciler } from './inference-service/reconciler.js';
import { modelVersionReconciler } from './model-version/reconciler.js';
import { trainingRunReconciler } from './training-run/reconciler.js';

export interface OperatorOptions {
  config: OperatorConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Environment forwarded to pods (storage endpoint/auth); the CLI passes process.env. */
  podEnv?: Readonly<Record<string, string | undefined>>;
  registry?: Registry;
  clock?: Clock;
  /** Bind address of the health server (default all interfaces). */
  healthHost?: string;
  /** Called when the lease is lost and the controllers have stopped; the CLI exits. */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  readonly manager: Manager;
  readonly metrics: OperatorMetrics;
  readonly registry: Registry;
  readonly caches: Caches;
  readonly kube: KubeClient;
  readonly healthPort: number | undefined;
  stop(): Promise<void>;
}

const MANAGED_SELECTOR = `${Labels.managedBy}=${MANAGED_BY}`;

/**
 * The composition root: builds every dependency once (client, caches, metrics, event recorder,
 * controllers, leader election) and wires them. Nothing else in the operator constructs a
 * client or reads the environment.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { config, kubeConfig } = options;
  const logger = options.logger;
  const clock = options.clock ?? systemClock();
  const registry = options.registry ?? new Registry();
  const kube = createKubeClient(kubeConfig);
  const resources: Array<[keyof Caches, ResourceRef, string | undefined]> = [
    ['trainingRuns', Resources.trainingRun, undefined],
    ['modelVersions', Resources.modelVersion, undefined],
    ['inferenceServices', Resources.inferenceService, undefined],
    // Children are cached only when the operator made them: never every Job or Pod of a cluster.
    ['jobs', Resources.job, MANAGED_SELECTOR],
    ['pods', Resources.pod, MANAGED_SELECTOR],
    ['deployments', Resources.deployment, MANAGED_SELECTOR],
  ];
  const metrics = createOperatorMetrics({ registry, resources: resources.map(([, r]) => r.plural) });
  const informer = (resource: ResourceRef, labelSelector: string | undefined): Informer<KubeObject> =>
    createInformer<KubeObject>({
      kubeConfig,
      kube,
      resource,
      namespaces: config.namespaces,
      ...(labelSelector ? { labelSelector } : {}),
      logger,
      clock,
      onRestart: () => metrics.informerRestarted(resource.plural),
    });
  const caches = Object.fromEntries(resources.map(([key, r, selector]) => [key, informer(r, selector)])) as unknown as Caches;
  metrics.setRunPhaseSource(() => {
    const counts: Record<string, number> = {};
    for (const run of caches.trainingRuns.list()) {
      const phase = (run as { status?: { phase?: string } }).status?.phase ?? 'Pending';
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    return counts;
  });

  const deps: ReconcilerDeps = {
    kube,
    caches,
    events: createEventRecorder({ kube, clock, logger, instance: config.identity }),
    discovery: createDiscovery({ kube, clock }),
    metrics,
    clock,
    config,
    podEnv: options.podEnv ?? {},
    logger,
  };

  const controller = (name: ControllerName, reconcile: Reconcile): Controller =>
    createController({
      name,
      reconcile,
      logger,
      clock,
      workers: config.workers,
      observe: (result, seconds) => metrics.observeReconcile(name, result, seconds),
      onDepth: (depth) => metrics.setQueueDepth(name, depth),
    });
  const trainingRuns = controller('trainingrun', trainingRunReconciler(deps));
  const modelVersions = controller('modelversion', modelVersionReconciler(deps));
  const inferenceServices = controller('inferenceservice', inferenceServiceReconciler(deps));

  // Handlers only enqueue keys: a child's event enqueues its owner.
  const ns = (o: KubeObject) => o.metadata?.namespace ?? '';
  caches.trainingRuns.onChange((o) => trainingRuns.enqueue(ns(o), o.metadata?.name ?? ''));
  caches.jobs.onChange((o) => {
    const owner = controllerOwnerName(o, 'TrainingRun', 'kennel.dev');
    if (owner) trainingRuns.enqueue(ns(o), owner);
  });
  caches.modelVersions.onChange((o) => {
    modelVersions.enqueue(ns(o), o.metadata?.name ?? '');
    // Services following this model, or pinning this version, may have something new to serve.
    const model = (o as { spec?: { model?: string } }).spec?.model;
    for (const isvc of caches.inferenceServices.list(ns(o))) {
      const spec = (isvc as { spec?: { model?: string; modelVersion?: string } }).spec;
      if ((model && spec?.model === model) || spec?.modelVersion === o.metadata?.name) inferenceServices.enqueue(ns(o), isvc.metadata?.name ?? '');
    }
  });
  caches.deployments.onChange((o) => {
    const owner = controllerOwnerName(o, 'InferenceService', 'kennel.dev');
    if (owner) inferenceServices.enqueue(ns(o), owner);
  });
  caches.inferenceServices.onChange((o) => {
    inferenceServices.enqueue(ns(o), o.metadata?.name ?? '');
    // A version's phase (Serving, Retired) follows the services that serve it: enqueue the ones
    // this service names now and the ones that still list it.
    const status = (o as { status?: { currentModelVersion?: string; canary?: { modelVersion?: string } } }).status;
    const names = new Set<string>();
    if (status?.currentModelVersion) names.add(status.currentModelVersion);
    if (status?.canary?.modelVersion) names.add(status.canary.modelVersion);
    for (const mv of caches.modelVersions.list(ns(o))) {
      if ((mv as { status?: { servingBy?: string[] } }).status?.servingBy?.includes(o.metadata?.name ?? '')) names.add(mv.metadata?.name ?? '');
    }
    for (const name of names) modelVersions.enqueue(ns(o), name);
  });
  caches.pods.onChange((o) => {
    const run = o.metadata?.labels?.[Labels.trainingRun];
    if (run) trainingRuns.enqueue(ns(o), run);
  });

  const manager = createManager({
    logger,
    registry,
    healthPort: config.healthPort,
    ...(options.healthHost ? { healthHost: options.healthHost } : {}),
    ...(config.leaderElect
      ? {
          leaderElector: (callbacks) =>
            createLeaderElector({ kube, clock, logger, namespace: config.leaseNamespace, name: config.leaseName, identity: config.identity, ...callbacks }),
        }
      : {}),
    onLeaderChange: (leading) => metrics.setLeader(leading),
    ...(options.onLostLeadership ? { onLostLeadership: options.onLostLeadership } : {}),
  });
  for (const i of Object.values(caches)) manager.addInformer(i);
  manager.addController(trainingRuns);
  manager.addController(modelVersions);
  manager.addController(inferenceServices);
  logger.info(
    { namespaces: config.namespaces.length ? config.namespaces : 'all', leaderElect: config.leaderElect, identity: config.identity },
    'operator starting',
  );
  await manager.start();
  return {
    manager,
    metrics,
    registry,
    caches,
    kube,
    get healthPort() {
      return manager.healthPort;
    },
    async stop() {
      await manager.stop();
      kube.close();
    },
  };
}

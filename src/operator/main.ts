import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { parseBatchPrediction, parseInferenceService, parseModelVersion, parseTrainingRun, parseTrainingSweep } from '../shared/api/parse.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { OperatorConfig } from './config.js';
import type { Caches, ReconcilerDeps } from './deps.js';
import { createKubeClient, type KubeClient, type KubeObject } from './kube/client.js';
import { createDiscovery } from './kube/discovery.js';
import { createEventRecorder } from './kube/events.js';
import { controllerOwnerName } from './kube/owner.js';
import { Resources, type ResourceRef } from './kube/resources.js';
import { createOperatorMetrics, type ControllerName, type OperatorMetrics } from './metrics.js';
import { createController, type Controller } from './runtime/controller.js';
import { createInformer, type Informer } from './runtime/informer.js';
import { createKindCache } from './runtime/kind-cache.js';
import { createLeaderElector } from './runtime/leader-election.js';
import { createManager, type Manager } from './runtime/manager.js';
import { asReconciler, type ObjectReconciler } from './runtime/object-reconciler.js';
import { Labels, MANAGED_BY } from './shared/labels.js';
import { batchPredictionReconciler } from './batch-prediction/reconciler.js';
import { inferenceServiceReconciler } from './inference-service/reconciler.js';
import { modelVersionReconciler } from './model-version/reconciler.js';
import { trainingRunReconciler } from './training-run/reconciler.js';
import { trainingSweepReconciler } from './training-sweep/reconciler.js';

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

/** The controllers of Kennel's kinds, by kind. */
interface Controllers {
  trainingRuns: Controller;
  modelVersions: Controller;
  inferenceServices: Controller;
  batchPredictions: Controller;
  trainingSweeps: Controller;
}

/**
 * The composition root: builds every dependency once (client, caches, metrics, event recorder,
 * controllers, leader election) and wires them. Nothing else in the operator constructs a
 * client or reads the environment.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { config } = options;
  const logger = options.logger;
  const clock = options.clock ?? systemClock();
  const registry = options.registry ?? new Registry();
  const kube = createKubeClient(options.kubeConfig);
  const metrics = createOperatorMetrics({ registry, resources: CACHED.map((r) => r.plural) });
  const caches = createCaches(options, kube, clock, metrics);
  metrics.setRunPhaseSource(() => {
    const counts: Record<string, number> = {};
    for (const run of caches.trainingRuns.list()) {
      const phase = run.status?.phase ?? 'Pending';
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
  const controller = <T extends { metadata: { name: string } }>(name: ControllerName, kind: ObjectReconciler<T>): Controller =>
    createController({
      name,
      reconcile: asReconciler(deps, kind),
      logger,
      clock,
      workers: config.workers,
      observe: (result, seconds) => metrics.observeReconcile(name, result, seconds),
      queueMetrics: metrics.queue(name),
    });
  const controllers: Controllers = {
    trainingRuns: controller('trainingrun', trainingRunReconciler(deps)),
    modelVersions: controller('modelversion', modelVersionReconciler(deps)),
    inferenceServices: controller('inferenceservice', inferenceServiceReconciler(deps)),
    batchPredictions: controller('batchprediction', batchPredictionReconciler(deps)),
    trainingSweeps: controller('trainingsweep', trainingSweepReconciler(deps)),
  };
  enqueueOnChange(caches, controllers);

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
  for (const c of Object.values(controllers)) manager.addController(c);
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

/** The kinds the operator caches, in the order their metrics are listed. */
const CACHED: readonly ResourceRef[] = [
  Resources.trainingRun,
  Resources.modelVersion,
  Resources.inferenceService,
  Resources.batchPrediction,
  Resources.trainingSweep,
  Resources.job,
  Resources.pod,
  Resources.deployment,
];

/** One informer per kind; Kennel's kinds parse at the cache, children are cached only when the operator made them. */
function createCaches(options: OperatorOptions, kube: KubeClient, clock: Clock, metrics: OperatorMetrics): Caches {
  const informer = <T extends KubeObject>(resource: ResourceRef, labelSelector?: string): Informer<T> =>
    createInformer<T>({
      kubeConfig: options.kubeConfig,
      kube,
      resource,
      namespaces: options.config.namespaces,
      ...(labelSelector ? { labelSelector } : {}),
      logger: options.logger,
      clock,
      onRestart: () => metrics.informerRestarted(resource.plural),
      onRelist: () => metrics.informerRelisted(resource.plural),
    });
  return {
    trainingRuns: createKindCache(informer(Resources.trainingRun), parseTrainingRun),
    modelVersions: createKindCache(informer(Resources.modelVersion), parseModelVersion),
    inferenceServices: createKindCache(informer(Resources.inferenceService), parseInferenceService),
    batchPredictions: createKindCache(informer(Resources.batchPrediction), parseBatchPrediction),
    trainingSweeps: createKindCache(informer(Resources.trainingSweep), parseTrainingSweep),
    // Never every Job or Pod of a cluster: only those the operator made.
    jobs: informer(Resources.job, MANAGED_SELECTOR),
    pods: informer(Resources.pod, MANAGED_SELECTOR),
    deployments: informer(Resources.deployment, MANAGED_SELECTOR),
  };
}

/** Handlers only enqueue keys: an object's change enqueues it, and a related object's change its owner or its dependants. */
function enqueueOnChange(caches: Caches, controllers: Controllers): void {
  const ns = (o: KubeObject) => o.metadata?.namespace ?? '';
  const name = (o: KubeObject) => o.metadata?.name ?? '';
  /** A child's change enqueues its controlling owner of `kind`. */
  const toOwner = (controller: Controller, kind: string) => (o: KubeObject) => {
    const owner = controllerOwnerName(o, kind, 'kennel.dev');
    if (owner) controller.enqueue(ns(o), owner);
  };
  caches.trainingRuns.onChange((o) => controllers.trainingRuns.enqueue(ns(o), name(o)));
  caches.trainingRuns.onChange(toOwner(controllers.trainingSweeps, 'TrainingSweep'));
  caches.trainingSweeps.onChange((o) => controllers.trainingSweeps.enqueue(ns(o), name(o)));
  caches.jobs.onChange(toOwner(controllers.trainingRuns, 'TrainingRun'));
  caches.pods.onChange((o) => {
    const run = o.metadata?.labels?.[Labels.trainingRun];
    if (run) controllers.trainingRuns.enqueue(ns(o), run);
    const batch = o.metadata?.labels?.[Labels.batchPrediction];
    if (batch) controllers.batchPredictions.enqueue(ns(o), batch);
  });
  caches.batchPredictions.onChange((o) => controllers.batchPredictions.enqueue(ns(o), name(o)));
  caches.jobs.onChange(toOwner(controllers.batchPredictions, 'BatchPrediction'));
  /** Batches waiting for a model: a ModelVersion appearing, or a service starting to serve, may resolve theirs. */
  const batchesNaming = (namespace: string, field: 'modelVersion' | 'inferenceService', objectName: string) => {
    for (const bp of caches.batchPredictions.valid(namespace)) {
      if (bp.spec.model[field] === objectName && !bp.status?.modelVersion) controllers.batchPredictions.enqueue(namespace, bp.metadata.name);
    }
  };
  caches.modelVersions.onChange((o) => {
    controllers.modelVersions.enqueue(ns(o), name(o));
    // A trial's version appearing, or its gate being decided, may finish its sweep.
    const sweep = o.metadata?.labels?.[Labels.trainingSweep];
    if (sweep) controllers.trainingSweeps.enqueue(ns(o), sweep);
    batchesNaming(ns(o), 'modelVersion', name(o));
    // Services following this model, or pinning this version, may have something new to serve.
    const parsed = caches.modelVersions.parse(o);
    const model = parsed.ok ? parsed.value.spec.model : undefined;
    for (const isvc of caches.inferenceServices.valid(ns(o))) {
      if ((model && isvc.spec.model === model) || isvc.spec.modelVersion === name(o)) controllers.inferenceServices.enqueue(ns(o), isvc.metadata.name);
    }
  });
  caches.deployments.onChange(toOwner(controllers.inferenceServices, 'InferenceService'));
  caches.inferenceServices.onChange((o) => {
    controllers.inferenceServices.enqueue(ns(o), name(o));
    batchesNaming(ns(o), 'inferenceService', name(o));
    // A version's phase (Serving, Retired) follows the services that serve it: enqueue the ones
    // this service names now and the ones that still list it.
    const names = new Set<string>();
    if (o.status?.currentModelVersion) names.add(o.status.currentModelVersion);
    if (o.status?.canary?.modelVersion) names.add(o.status.canary.modelVersion);
    for (const mv of caches.modelVersions.list(ns(o))) if (mv.status?.servingBy?.includes(name(o))) names.add(name(mv));
    for (const n of names) controllers.modelVersions.enqueue(ns(o), n);
  });
}

import type { Logger } from 'pino';
import type { OperatorConfig } from './config.js';
import type { KubeClient, KubeObject } from './kube/client.js';
import type { Discovery } from './kube/discovery.js';
import type { EventRecorder } from './kube/events.js';
import type { OperatorMetrics } from './metrics.js';
import type { Clock } from './runtime/clock.js';
import type { Informer } from './runtime/informer.js';

/** The caches the controllers read (one informer per kind, shared by every controller). */
export interface Caches {
  trainingRuns: Informer<KubeObject>;
  modelVersions: Informer<KubeObject>;
  inferenceServices: Informer<KubeObject>;
  jobs: Informer<KubeObject>;
  pods: Informer<KubeObject>;
  deployments: Informer<KubeObject>;
}

/** What every reconciler is given by the composition root; nothing is reached for globally. */
export interface ReconcilerDeps {
  kube: KubeClient;
  caches: Caches;
  events: EventRecorder;
  discovery: Discovery;
  metrics: OperatorMetrics;
  clock: Clock;
  config: OperatorConfig;
  /** Environment forwarded to worker and server pods (storage endpoint and auth mode). */
  podEnv: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

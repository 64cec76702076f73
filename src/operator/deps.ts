import type { Logger } from 'pino';
import type { OperatorConfig } from './config.js';
import type { BatchPrediction } from '../shared/api/batch-prediction.js';
import type { InferenceService } from '../shared/api/inference-service.js';
import type { ModelVersion } from '../shared/api/model-version.js';
import type { TrainingRun } from '../shared/api/training-run.js';
import type { TrainingSweep } from '../shared/api/training-sweep.js';
import type { KubeClient } from './kube/client.js';
import type { Discovery } from './kube/discovery.js';
import type { EventRecorder } from './kube/events.js';
import type { OperatorMetrics } from './metrics.js';
import type { Clock } from '../shared/clock.js';
import type { Informer } from './runtime/informer.js';
import type { KindCache } from './runtime/kind-cache.js';
import type { DeploymentWire, JobWire, PodWire } from './shared/wire.js';

/**
 * The caches the controllers read: one informer per kind, shared by every controller. Kennel's
 * own kinds are parsed at this boundary (once per stored version); children are the wire JSON.
 */
export interface Caches {
  trainingRuns: KindCache<TrainingRun>;
  modelVersions: KindCache<ModelVersion>;
  inferenceServices: KindCache<InferenceService>;
  batchPredictions: KindCache<BatchPrediction>;
  trainingSweeps: KindCache<TrainingSweep>;
  jobs: Informer<JobWire>;
  pods: Informer<PodWire>;
  deployments: Informer<DeploymentWire>;
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

import type { Registry } from 'prom-client';
import type { Admission } from './admission.js';
import type { Logger } from '../shared/logger.js';
import type { BodyLimits } from './body.js';
import type { Prediction } from './classifier.js';
import type { FeedbackDesk } from './feedback/feedback-desk.js';
import type { ServeMetrics, RouteName } from './metrics.js';
import type { ModelIdentity, ModelSlot } from './model-info.js';
import type { PredictionLog } from './prediction-log/prediction-log.js';
import type { Readiness } from './readiness.js';

/** Per-request state shared between the request middleware and the routes. */
export interface ServeState {
  requestId: string;
  route: RouteName;
  /** Set by prediction routes; the request log line reports them. */
  predictions?: readonly Prediction[];
}

export interface ServeLimits extends BodyLimits {
  /** Most images in one KServe v1 / Open Inference v2 request. */
  readonly maxInstances: number;
}

/** Everything the koa app needs, passed in (one composition root: command.ts). */
export interface AppDeps {
  readonly identity: ModelIdentity;
  readonly model: ModelSlot;
  readonly readiness: Readiness;
  readonly metrics: ServeMetrics;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Issues prediction ids and judges feedback on them. */
  readonly feedback: FeedbackDesk;
  /** The durable prediction log (`--prediction-log`), when there is one. */
  readonly predictionLog?: PredictionLog;
  readonly limits: ServeLimits;
  /** Bounds the prediction requests in flight (load shedding). */
  readonly admission: Admission;
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { Registry } from 'prom-client';
import type { Logger } from '../shared/logger.js';
import { storageFor, type Storage } from '../shared/storage/index.js';
import { errorMessage, ReasonError } from '../shared/errors.js';
import { Admission } from './admission.js';
import { createApp } from './app.js';
import { modelIdentity, type ServeConfig } from './config.js';
import type { AppDeps } from './context.js';
import { BaselineMetrics } from './baseline-metrics.js';
import { startLearningLoop } from './learning-loop.js';
import { ServeMetrics } from './metrics.js';
import { loadServedModel } from './model-loader.js';
import type { LoadedModel, ModelSlot } from './model-info.js';
import { Readiness } from './readiness.js';

export interface ServeHandle {
  /** http://host:port the server listens on. */
  readonly url: string;
  readonly server: Server;
  readonly deps: AppDeps;
  /** Settles once loading ends: true when ready, false when the model failed to load. */
  readonly loaded: Promise<boolean>;
  /** Stops accepting, lets in-flight requests finish (bounded), releases the model, flushes the prediction log (bounded). */
  shutdown(): Promise<void>;
}

export interface StartServeOptions {
  readonly logger: Logger;
  /** Defaults to storageFor(config.model). */
  readonly storage?: Storage;
  /** Storage of the prediction log; defaults to storageFor(config.predictionLog). */
  readonly logStorage?: Storage;
  readonly registry?: Registry;
}

/**
 * Starts the inference server: listens at once (so /healthz answers and /readyz explains what
 * is happening), then loads the model in the background. Ready only once the artifact is
 * loaded, verified and warmed up; a load that fails or exceeds `loadTimeoutSeconds` leaves
 * /readyz at 503 with the reason and resolves `loaded` to false.
 */
export async function startServe(config: ServeConfig, options: StartServeOptions): Promise<ServeHandle> {
  const { logger } = options;
  const identity = modelIdentity(config);
  const registry = options.registry ?? new Registry();
  const metrics = new ServeMetrics({ registry, model: identity.name, version: identity.version, processMetrics: true });
  const readiness = new Readiness();
  const slot: ModelSlot = { current: undefined };
  const baseline = new BaselineMetrics({ registry, model: identity.name, version: identity.version });
  const loop = startLearningLoop(config, { registry, identity, logger, ...(options.logStorage ? { storage: options.logStorage } : {}) });
  const deps: AppDeps = {
    identity,
    model: slot,
    readiness,
    metrics,
    registry,
    logger,
    feedback: loop.feedback,
    ...(loop.predictionLog ? { predictionLog: loop.predictionLog } : {}),
    admission: new Admission(config.maxInFlight, metrics),
    limits: { maxImageBytes: config.maxImageBytes, maxJsonBytes: config.maxJsonBytes, maxInstances: config.maxInstances },
  };
  const app = createApp(deps);
  let stopping = false;
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000, maxHeaderSize: 16 * 1024 }, app.callback());
  server.keepAliveTimeout = 5_000;
  // Responses not yet sent, so that shutdown can tell their clients not to reuse the connection.
  const unanswered = new Set<ServerResponse>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) {
      res.setHeader('connection', 'close');
      return;
    }
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  logger.info({ url, model: identity.name, version: identity.version, uri: config.model }, 'listening; loading model');

  const loading = loadServedModel({
    uri: config.model,
    storage: options.storage ?? storageFor(config.model),
    workers: config.workers,
    backend: config.backend,
    batching: { maxBatchSize: config.maxBatchSize, maxWaitMs: config.maxWaitMs, maxQueue: config.maxQueue },
    minConfidence: config.minConfidence,
    maxPixels: config.maxPixels,
    logger,
    onClasses: (classes) => metrics.setClasses(classes),
    onBatch: (n) => metrics.observeBatch(n),
  });
  // Ready needs the model and, with a prediction log, the key that signs prediction ids.
  const loadingAll = Promise.all([loading, loop.ready]).then(([model]) => model);
  const loaded = withTimeout(loadingAll, config.loadTimeoutSeconds * 1000).then(
    (model) => {
      if (stopping) {
        void model.predictor.close();
        return false;
      }
      slot.current = model;
      baseline.set(model.evaluation);
      readiness.set({ phase: 'ready' });
      metrics.setModelLoaded(true);
      void model.predictor.stats().then((st) => metrics.setTensors(st.numTensors), () => undefined);
      logger.info({ model: identity.name, version: identity.version, backend: model.backend }, 'ready');
      return true;
    },
    (err: unknown) => {
      readiness.set({ phase: 'failed', reason: err instanceof ReasonError ? err.reason : 'LoadFailed', message: errorMessage(err) });
      logger.error({ err, uri: config.model }, 'model failed to load');
      // A load that finishes after its timeout must not leak its worker threads.
      loading.then((m: LoadedModel) => m.predictor.close(), () => undefined).catch(() => undefined);
      return false;
    },
  );

  /**
   * Graceful stop (SIGTERM): /readyz turns 503, the listener closes, and every request already
   * received is still answered with the loaded model — with `Connection: close`, so that no
   * client sends another request on a keep-alive connection that is about to close (that race
   * would fail the request). Idle connections are closed as they turn idle; after
   * `shutdownTimeoutSeconds` the rest are cut. Taking the pod out of the Service before SIGTERM
   * is the Deployment's preStop sleep, not this function's job.
   */
  async function shutdown(): Promise<void> {
    if (stopping) return;
    stopping = true;
    readiness.set({ phase: 'stopping' });
    metrics.setModelLoaded(false);
    for (const res of unanswered) if (!res.headersSent) res.setHeader('connection', 'close');
    unanswered.clear();
    logger.info({}, 'shutting down: no new connections, finishing in-flight requests');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections turn idle once their in-flight response is sent: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.shutdownTimeoutSeconds * 1000).unref());
    const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
    clearInterval(sweep);
    if (outcome === 'timeout') {
      logger.warn({ timeoutSeconds: config.shutdownTimeoutSeconds }, 'in-flight requests did not finish in time; closing connections');
      server.closeAllConnections();
    }
    const model = slot.current;
    if (model) {
      await model.classifier.idle();
      await model.predictor.close();
    }
    // Every request is answered: what they logged is all in the buffer now; write it out.
    await loop.close();
    logger.info({}, 'stopped');
  }

  return { url, server, deps, loaded, shutdown };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error(`model not ready after ${ms / 1000} s`), { reason: 'LoadTimeout' })), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { isTerminal } from '../../shared/errors.js';
import type { ReconcileResult, WorkQueueMetrics } from '../metrics.js';
import type { Clock } from '../../shared/clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';
import { createWorkQueue, type WorkQueue } from './work-queue.js';

/** What a reconcile is asked to do: a key, never an event. */
export interface Request {
  readonly namespace: string;
  readonly name: string;
}

export interface ReconcileContext {
  /** Child logger with controller, namespace, name and reconcileId. */
  readonly logger: Logger;
  readonly reconcileId: string;
}

/**
 * The reconcile's verdict: `requeueAfterMs` only when waiting on the clock (a deadline, a canary
 * step); throw to retry with per-key backoff; throw a TerminalError for "retrying will not help"
 * (the reconciler has recorded a False condition; the key is not retried until it changes).
 */
export interface Result {
  requeueAfterMs?: number;
}

export type Reconcile = (request: Request, context: ReconcileContext) => Promise<Result | void>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  logger: Logger;
  clock: Clock;
  /** Parallel reconciles (of different keys). */
  workers?: number;
  rateLimiter?: RateLimiter;
  observe?: (result: ReconcileResult, seconds: number) => void;
  /** The work queue's metrics (workqueue_* of controller-runtime). */
  queueMetrics?: WorkQueueMetrics;
}

export interface Controller {
  readonly name: string;
  /** Enqueues `namespace/name`. */
  enqueue(namespace: string, name: string): void;
  /** Starts the workers. */
  start(): void;
  /** Stops taking keys and waits for reconciles in flight. */
  stop(): Promise<void>;
  readonly queue: WorkQueue;
}

export const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export function parseKey(key: string): Request {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * One controller: a work queue and a pool of workers calling `reconcile` for one key at a time.
 * Results map onto the queue exactly as controller-runtime's do: success forgets the key's
 * backoff, `requeueAfterMs` waits on the clock, an error retries with backoff, a terminal error
 * is counted and dropped.
 */
export function createController(options: ControllerOptions): Controller {
  const { name, clock } = options;
  const logger = options.logger.child({ controller: name });
  const queue = createWorkQueue({ clock, rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(clock), ...(options.queueMetrics ? { metrics: options.queueMetrics } : {}) });
  const workers: Array<Promise<void>> = [];
  let started = false;

  async function processOne(key: string): Promise<void> {
    const request = parseKey(key);
    const reconcileId = randomBytes(6).toString('hex');
    const log = logger.child({ namespace: request.namespace, name: request.name, reconcileId });
    const t0 = performance.now();
    let outcome: ReconcileResult;
    try {
      const result = await options.reconcile(request, { logger: log, reconcileId });
      queue.forget(key);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) {
        queue.addAfter(key, result.requeueAfterMs);
        outcome = 'requeue';
      } else {
        outcome = 'success';
      }
    } catch (err) {
      if (isTerminal(err)) {
        queue.forget(key);
        outcome = 'terminal';
        log.warn({ reason: err.reason, err }, 'reconcile failed terminally; not retried');
      } else {
        outcome = 'error';
        log.warn({ err, retries: queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
        queue.addRateLimited(key);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    options.observe?.(outcome, seconds);
    log.debug({ result: outcome, durationMs: Math.round(seconds * 1000) }, 'reconciled');
  }

  async function worker(): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await processOne(key);
      } finally {
        queue.done(key);
      }
    }
  }

  return {
    name,
    queue,
    enqueue: (namespace, n) => queue.add(keyOf(namespace, n)),
    start() {
      if (started) return;
      started = true;
      for (let i = 0; i < (options.workers ?? 4); i++) workers.push(worker());
    },
    async stop() {
      await queue.shutDown();
      await Promise.all(workers);
    },
  };
}

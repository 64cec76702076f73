import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';

/** How one reconcile ended. */
export const ReconcileResults = ['success', 'requeue', 'error', 'terminal'] as const;
export type ReconcileResult = (typeof ReconcileResults)[number];

export const ControllerNames = ['trainingrun', 'modelversion', 'inferenceservice', 'batchprediction', 'trainingsweep'] as const;
export type ControllerName = (typeof ControllerNames)[number];

export const RunPhases = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export const RollbackReasons = ['ProgressDeadlineExceeded', 'AnalysisFailed'] as const;
export type RollbackReason = (typeof RollbackReasons)[number];

/**
 * What a queue reports, as client-go's workqueue metrics provider: every add that is not a
 * duplicate, how long a key waited before a worker took it, how long the worker held it, every
 * rate-limited re-add (a retry), and the depth whenever it changes.
 */
export interface WorkQueueMetrics {
  add(): void;
  /** A key was handed to a worker after waiting this long since it was added. */
  taken(waitedSeconds: number): void;
  /** A worker is done with a key it held this long. */
  done(workSeconds: number): void;
  retry(): void;
  depth(depth: number): void;
}

/** controller-runtime's buckets for the work queue's durations: 10 ns to 1000 s, ×10 each. */
export const WORKQUEUE_DURATION_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/**
 * The operator's Prometheus metrics, registered on an injected Registry. Label sets are small
 * and fixed (controller names, results, phases: never object names), and every series is
 * created at zero at start-up so that rates and alerts work from the first scrape.
 *
 * Besides Kennel's own: the process's (prom-client's default metrics, prefixed
 * `kennel_operator_`: CPU, resident memory, heap, GC, event-loop lag, open handles) and each
 * work queue's under controller-runtime's names (`workqueue_adds_total`, `workqueue_depth`,
 * `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds`,
 * `workqueue_retries_total`, label `name` = the controller), so dashboards made for
 * controller-runtime operators read Kennel's too.
 */
export interface OperatorMetrics {
  observeReconcile(controller: string, result: ReconcileResult, seconds: number): void;
  /** The metrics of one controller's work queue. */
  queue(controller: string): WorkQueueMetrics;
  informerRestarted(resource: string): void;
  /** A watch ended with 410 Gone and the informer listed again. */
  informerRelisted(resource: string): void;
  setLeader(leading: boolean): void;
  rolloutStarted(): void;
  rolloutCompleted(): void;
  rolledBack(reason: RollbackReason): void;
  /** An InferenceService's retraining policy started a TrainingRun. */
  retrainingStarted(): void;
  /** Reads the TrainingRun count per phase at scrape time (from the informer cache). */
  setRunPhaseSource(source: () => Record<string, number>): void;
}

export function createOperatorMetrics(options: { registry: Registry; controllers?: readonly string[]; resources?: readonly string[] }): OperatorMetrics {
  const registers = [options.registry];
  const controllers = options.controllers ?? ControllerNames;
  const reconciles = new Counter({
    name: 'kennel_operator_reconciles_total',
    help: 'Reconciles by controller and result (success, requeue, error, terminal).',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'kennel_operator_reconcile_errors_total',
    help: 'Reconciles that ended in an error (retried with backoff, or terminal).',
    labelNames: ['controller'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'kennel_operator_reconcile_duration_seconds',
    help: 'Time one reconcile took.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const depth = new Gauge({ name: 'kennel_operator_queue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'] as const, registers });
  const restarts = new Counter({
    name: 'kennel_operator_informer_restarts_total',
    help: 'Watches restarted after they stopped with an error.',
    labelNames: ['resource'] as const,
    registers,
  });
  const relists = new Counter({
    name: 'kennel_operator_informer_relists_total',
    help: 'Lists after the first: a watch ended with 410 Gone (its resourceVersion compacted or beyond the watch cache) and the cache was listed again.',
    labelNames: ['resource'] as const,
    registers,
  });
  const leader = new Gauge({ name: 'kennel_operator_leader', help: '1 while this replica holds the leader lease.', registers });
  const rollouts = new Counter({ name: 'kennel_operator_rollouts_total', help: 'InferenceService rollouts by event (started, completed).', labelNames: ['event'] as const, registers });
  const rollbacks = new Counter({ name: 'kennel_operator_rollbacks_total', help: 'Automatic rollbacks by reason.', labelNames: ['reason'] as const, registers });
  const retrainings = new Counter({ name: 'kennel_operator_retraining_runs_total', help: 'TrainingRuns started by InferenceService retraining policies (live accuracy below their threshold).', registers });
  let phaseSource: () => Record<string, number> = () => ({});
  new Gauge({
    name: 'kennel_operator_training_runs',
    help: 'TrainingRuns in the cache by phase.',
    labelNames: ['phase'] as const,
    registers,
    collect() {
      const counts = phaseSource();
      for (const phase of RunPhases) this.set({ phase }, counts[phase] ?? 0);
    },
  });

  const wq = {
    adds: new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'] as const, registers }),
    depth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'] as const, registers }),
    queueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_DURATION_BUCKETS,
      registers,
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_DURATION_BUCKETS,
      registers,
    }),
    retries: new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'] as const, registers }),
  };
  collectDefaultMetrics({ register: options.registry, prefix: 'kennel_operator_' });

  for (const controller of controllers) {
    for (const result of ReconcileResults) reconciles.inc({ controller, result }, 0);
    errors.inc({ controller }, 0);
    depth.set({ controller }, 0);
    duration.zero({ controller });
    const name = { name: controller };
    wq.adds.inc(name, 0);
    wq.depth.set(name, 0);
    wq.queueDuration.zero(name);
    wq.workDuration.zero(name);
    wq.retries.inc(name, 0);
  }
  for (const resource of options.resources ?? []) {
    restarts.inc({ resource }, 0);
    relists.inc({ resource }, 0);
  }
  leader.set(0);
  for (const event of ['started', 'completed']) rollouts.inc({ event }, 0);
  for (const reason of RollbackReasons) rollbacks.inc({ reason }, 0);
  retrainings.inc(0);

  return {
    observeReconcile(controller, result, seconds) {
      reconciles.inc({ controller, result });
      if (result === 'error' || result === 'terminal') errors.inc({ controller });
      duration.observe({ controller }, seconds);
    },
    queue(controller) {
      const name = { name: controller };
      return {
        add: () => wq.adds.inc(name),
        taken: (seconds) => wq.queueDuration.observe(name, seconds),
        done: (seconds) => wq.workDuration.observe(name, seconds),
        retry: () => wq.retries.inc(name),
        depth(d) {
          wq.depth.set(name, d);
          depth.set({ controller }, d);
        },
      };
    },
    informerRestarted: (resource) => restarts.inc({ resource }),
    informerRelisted: (resource) => relists.inc({ resource }),
    setLeader: (leading) => leader.set(leading ? 1 : 0),
    rolloutStarted: () => rollouts.inc({ event: 'started' }),
    rolloutCompleted: () => rollouts.inc({ event: 'completed' }),
    rolledBack: (reason) => rollbacks.inc({ reason }),
    retrainingStarted: () => retrainings.inc(),
    setRunPhaseSource(source) {
      phaseSource = source;
    },
  };
}

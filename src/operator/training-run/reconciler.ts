import { describeErrors, parseTrainingRun } from '../../shared/api/parse.js';
import { TrainingRunReasons, type TrainingRunStatus } from '../../shared/api/training-run.js';
import type { EpochProgress } from '../../shared/api/worker-report.js';
import { TerminalError } from '../../shared/errors.js';
import type { ReconcilerDeps } from '../deps.js';
import type { KubeObject } from '../kube/client.js';
import { Resources } from '../kube/resources.js';
import type { Reconcile, ReconcileContext, Request, Result } from '../runtime/controller.js';
import { mergeConditions, statusChanged, summaryConditions } from '../shared/conditions.js';
import { desiredModelVersion } from '../model-version/desired.js';
import { Labels } from '../shared/labels.js';
import type { JobWire, PodWire } from '../shared/wire.js';
import { forwardedEnv } from '../shared/worker-env.js';
import { desiredJob, TRAIN_CONTAINER, trainingJobName, trainingOutputUri } from './desired.js';
import { registerModelVersion } from './register-model-version.js';
import { computeTrainingRunStatus, trainingRunPhaseEvent } from './status.js';
import { newestFirst, outcomeFromPods, latestEpochProgress } from './worker-output.js';

/** How often progress is read from the pod log while a run trains (a clock wait, so requeueAfter). */
export const PROGRESS_POLL_MS = 10_000;
/**
 * While a run waits for its pod, it is looked at again on this period even without an event: a
 * safety net against a missed Pod watch event leaving a run Pending (seen once in CI under load).
 */
export const PENDING_RECHECK_MS = 5_000;
/** Lines of the pod log read for progress: the worker prints one per epoch, plus a few others. */
const LOG_TAIL_LINES = 50;

/**
 * The TrainingRun controller's reconcile, following the loop in docs/architecture.md:
 * read from the cache → render the Job (pure) → server-side apply it only when the cache does
 * not have it (the name is a hash of the spec, so a second apply after a restart targets the
 * same Job and can never make a second one) → observe pods, log tail and termination message →
 * on success register the ModelVersion → compute status (pure) → write /status only if changed,
 * with an Event on each phase change. An invalid spec is terminal: a False condition, no retry.
 */
export function trainingRunReconciler(deps: ReconcilerDeps): Reconcile {
  const { kube, caches, events, clock, config } = deps;
  const podEnv = forwardedEnv(deps.podEnv);

  async function writeStatus(raw: KubeObject, before: TrainingRunStatus | undefined, after: TrainingRunStatus, ctx: ReconcileContext): Promise<void> {
    if (!statusChanged(before, after)) return;
    // PUT with the cached resourceVersion: a stale cache gives 409, which is thrown so the queue
    // retries once the informer has the newer object.
    await kube.replaceStatus(Resources.trainingRun, { ...raw, status: after });
    ctx.logger.info({ phase: after.phase, reason: after.conditions?.find((c) => c.type === 'Ready')?.reason }, 'status updated');
    const event = trainingRunPhaseEvent(before, after);
    if (event) await events.record(raw, event.type, event.reason, event.message);
  }

  async function readProgress(pods: readonly PodWire[], namespace: string, ctx: ReconcileContext): Promise<EpochProgress | undefined> {
    const running = newestFirst(pods).find((p) => p.status?.phase === 'Running');
    const name = running?.metadata?.name;
    if (!name) return undefined;
    try {
      const text = await kube.request<string>({
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log`,
        query: { container: TRAIN_CONTAINER, tailLines: LOG_TAIL_LINES },
        text: true,
        timeoutMs: 5_000,
      });
      return latestEpochProgress(text);
    } catch (err) {
      // Progress is a nicety: a log that cannot be read now is read on the next poll.
      ctx.logger.debug({ err, pod: name }, 'pod log not readable');
      return undefined;
    }
  }

  return async (req: Request, ctx: ReconcileContext): Promise<Result | void> => {
    const raw = caches.trainingRuns.get(req.namespace, req.name);
    if (!raw) return;
    if (raw.metadata?.deletionTimestamp) return;
    const previous = (raw as { status?: TrainingRunStatus }).status;
    const parsed = parseTrainingRun(raw);
    if (!parsed.ok) {
      const message = `invalid TrainingRun: ${describeErrors(parsed.errors)}`;
      const now = new Date(clock.now());
      const generation = raw.metadata?.generation;
      const status: TrainingRunStatus = {
        ...previous,
        phase: 'Failed',
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        failure: { reason: TrainingRunReasons.InvalidSpec, message },
        conditions: mergeConditions(
          previous?.conditions,
          summaryConditions({
            ready: { status: 'False', reason: TrainingRunReasons.InvalidSpec, message },
            stalled: { reason: TrainingRunReasons.InvalidSpec, message },
          }),
          { now, generation },
        ),
      };
      await writeStatus(raw, previous, status, ctx);
      throw new TerminalError(TrainingRunReasons.InvalidSpec, message);
    }
    const run = parsed.value;
    const generation = run.metadata.generation;
    if ((previous?.phase === 'Succeeded' || previous?.phase === 'Failed') && previous.observedGeneration === generation) return;

    const jobName = trainingJobName(run);
    const outputUri = trainingOutputUri(run, config.artifactRoot);
    const job = caches.jobs.get(req.namespace, jobName) as JobWire | undefined;
    if (!job) {
      const desired = desiredJob(run, {
        workerImage: config.workerImage,
        artifactRoot: config.artifactRoot,
        ...(config.serviceAccount ? { serviceAccountName: config.serviceAccount } : {}),
        env: podEnv,
      });
      await kube.apply(Resources.job, desired as unknown as KubeObject);
      ctx.logger.info({ job: jobName }, 'job applied');
      // Children first, report after: the Job's own watch event brings this key back, and that
      // reconcile writes the status. In a burst of new runs every Job is made before any status
      // write, so the time to a Job does not pay for the status writes and Events of the others.
      return;
    }

    // A changed spec means a new Job (Jobs are immutable); the Job of the old spec is stopped.
    for (const stale of caches.jobs.list(req.namespace)) {
      const name = stale.metadata?.name;
      if (!name || name === jobName || stale.metadata?.labels?.[Labels.trainingRun] !== run.metadata.name) continue;
      if (!stale.metadata.ownerReferences?.some((o) => o.uid === run.metadata.uid)) continue;
      await kube.delete(Resources.job, req.namespace, name);
      ctx.logger.info({ job: name }, 'job of an earlier spec deleted');
    }

    const pods = caches.pods
      .list(req.namespace)
      .filter((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === jobName || p.metadata?.labels?.['job-name'] === jobName) as PodWire[];
    const outcome = outcomeFromPods(pods);
    const finished = job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;
    const progress = finished ? undefined : await readProgress(pods, req.namespace, ctx);

    let modelVersion = previous?.jobName === jobName ? previous.modelVersion : undefined;
    const complete = job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false;
    if (complete && outcome?.outcome === 'Succeeded' && !modelVersion) {
      const image = run.spec.image ?? config.workerImage;
      const registered = await registerModelVersion({
        kube,
        namespace: req.namespace,
        model: run.spec.model,
        runUid: run.metadata.uid ?? '',
        cached: caches.modelVersions.list(req.namespace),
        render: (version) => desiredModelVersion({ run, outcome, version, workerImage: image }) as unknown as KubeObject,
      });
      modelVersion = registered.name;
      if (registered.created) ctx.logger.info({ modelVersion, version: registered.version }, 'model version registered');
    }

    const status = computeTrainingRunStatus(run, {
      job,
      pods,
      ...(outcome ? { outcome } : {}),
      ...(progress ? { progress } : {}),
      ...(modelVersion ? { modelVersion } : {}),
      jobName,
      outputUri,
      now: new Date(clock.now()),
    });
    await writeStatus(raw, previous, status, ctx);
    if (finished) return undefined;
    if (status.phase === 'Running') return { requeueAfterMs: PROGRESS_POLL_MS };
    if (status.phase === 'Pending') return { requeueAfterMs: PENDING_RECHECK_MS };
    return undefined;
  };
}

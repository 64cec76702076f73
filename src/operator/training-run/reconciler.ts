import { TrainingRunReasons, type TrainingRun, type TrainingRunStatus } from '../../shared/api/training-run.js';
import type { EpochProgress, WorkerSuccess } from '../../shared/api/worker-report.js';
import type { ReconcilerDeps } from '../deps.js';
import { Resources } from '../kube/resources.js';
import type { ObjectContext, ObjectReconciler } from '../runtime/object-reconciler.js';
import { desiredModelVersion } from '../model-version/desired.js';
import { Annotations, Labels } from '../shared/labels.js';
import type { JobWire, PodWire } from '../shared/wire.js';
import { forwardedEnv } from '../shared/worker-env.js';
import { desiredJob, TRAIN_CONTAINER, trainingJobName, trainingOutputUri } from './desired.js';
import { registerModelVersion } from './register-model-version.js';
import { computeTrainingRunStatus, TrainingRunWarningPhases } from './status.js';
import { epochProgressLines, outcomeFromPods } from './worker-output.js';
import { isPodOfJob, jobComplete, jobFinished } from '../shared/job-state.js';
import { newestFirst } from '../shared/pod-state.js';

/**
 * While a run waits for its pod, it is looked at again on this period even without an event: a
 * safety net against a missed Pod watch event leaving a run Pending (seen once in CI under load).
 */
export const PENDING_RECHECK_MS = 5_000;
/** Lines of the pod log read for progress: the worker prints one per epoch, plus a few others. */
const LOG_TAIL_LINES = 50;

/**
 * The TrainingRun controller, following the loop in docs/architecture.md: render the Job (pure)
 * → server-side apply it only when the cache does not have it (the name is a hash of the spec,
 * so a second apply after a restart targets the same Job and can never make a second one) →
 * observe pods, log tail and termination message → on success register the ModelVersion →
 * compute status (pure). A finished run is final for its generation.
 */
export function trainingRunReconciler(deps: ReconcilerDeps): ObjectReconciler<TrainingRun> {
  const { kube, caches, clock, config } = deps;
  const podEnv = forwardedEnv(deps.podEnv);

  /**
   * The epoch lines of the training pod's log tail: the running pod's while the Job runs, the
   * newest pod's once it finished (the last epochs since the previous poll complete the history).
   */
  async function readProgress(pods: readonly PodWire[], finished: boolean, namespace: string, ctx: ObjectContext): Promise<EpochProgress[]> {
    const pod = finished ? newestFirst(pods)[0] : newestFirst(pods).find((p) => p.status?.phase === 'Running');
    const name = pod?.metadata?.name;
    if (!name) return [];
    try {
      const text = await kube.request<string>({
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log`,
        query: { container: TRAIN_CONTAINER, tailLines: LOG_TAIL_LINES },
        text: true,
        timeoutMs: 5_000,
      });
      return epochProgressLines(text);
    } catch (err) {
      // Progress is a nicety: a log that cannot be read now is read on the next poll.
      ctx.logger.debug({ err, pod: name }, 'pod log not readable');
      return [];
    }
  }

  /** A changed spec means a new Job (Jobs are immutable): the Jobs of the run's earlier specs are stopped. */
  async function deleteStaleJobs(run: TrainingRun, jobName: string, ctx: ObjectContext): Promise<void> {
    for (const stale of caches.jobs.list(ctx.namespace)) {
      const name = stale.metadata?.name;
      if (!name || name === jobName || stale.metadata?.labels?.[Labels.trainingRun] !== run.metadata.name) continue;
      if (!stale.metadata.ownerReferences?.some((o) => o.uid === run.metadata.uid)) continue;
      await kube.delete(Resources.job, ctx.namespace, name);
      ctx.logger.info({ job: name }, 'job of an earlier spec deleted');
    }
  }

  /** The name of the run's ModelVersion, registered now if it has none yet. */
  async function register(run: TrainingRun, outcome: WorkerSuccess, ctx: ObjectContext): Promise<string> {
    const image = run.spec.image ?? config.workerImage;
    const registered = await registerModelVersion({
      kube,
      namespace: ctx.namespace,
      model: run.spec.model,
      runUid: run.metadata.uid ?? '',
      cached: caches.modelVersions.valid(ctx.namespace),
      render: (version) => desiredModelVersion({ run, outcome, version, workerImage: image }),
    });
    if (registered.created) ctx.logger.info({ modelVersion: registered.name, version: registered.version }, 'model version registered');
    return registered.name;
  }

  /**
   * kennel.dev/stop on an unfinished run: delete its Job (its pods go with it) and end the run
   * Failed/Stopped. The Job is never made again: the run is final for its generation.
   */
  async function stopRun(run: TrainingRun, job: JobWire | undefined, jobName: string, why: string, ctx: ObjectContext) {
    if (job) {
      await kube.delete(Resources.job, ctx.namespace, jobName, { propagationPolicy: 'Background' });
      ctx.logger.info({ job: jobName, why }, 'job deleted: run stopped');
    }
    const status = computeTrainingRunStatus(run, {
      pods: [],
      stop: why,
      jobName,
      outputUri: trainingOutputUri(run, config.artifactRoot),
      now: new Date(clock.now()),
    });
    return { status };
  }

  return {
    cache: caches.trainingRuns,
    resource: Resources.trainingRun,
    reasons: TrainingRunReasons,
    warningPhases: TrainingRunWarningPhases,
    invalidSpecStatus: (status, why): TrainingRunStatus => ({ ...status, phase: 'Failed', failure: why }),
    async reconcile(run, ctx) {
      const previous = run.status;
      if ((previous?.phase === 'Succeeded' || previous?.phase === 'Failed') && previous.observedGeneration === run.metadata.generation) return {};

      const jobName = trainingJobName(run);
      const job = caches.jobs.get(ctx.namespace, jobName);
      const stop = run.metadata.annotations?.[Annotations.stop];
      if (stop !== undefined && !(job && jobFinished(job))) return stopRun(run, job, jobName, stop, ctx);
      if (!job) {
        const desired = desiredJob(run, {
          workerImage: config.workerImage,
          artifactRoot: config.artifactRoot,
          ...(config.serviceAccount ? { serviceAccountName: config.serviceAccount } : {}),
          env: podEnv,
        });
        await kube.apply(Resources.job, desired);
        ctx.logger.info({ job: jobName }, 'job applied');
        // Children first, report after: the Job's own watch event brings this key back, and that
        // reconcile writes the status. In a burst of new runs every Job is made before any status
        // write, so the time to a Job does not pay for the status writes and Events of the others.
        return {};
      }
      await deleteStaleJobs(run, jobName, ctx);

      const pods = caches.pods.list(ctx.namespace).filter((p) => isPodOfJob(p, jobName));
      const outcome = outcomeFromPods(pods);
      const finished = jobFinished(job);
      const epochLines = await readProgress(pods, finished, ctx.namespace, ctx);
      let modelVersion = previous?.jobName === jobName ? previous.modelVersion : undefined;
      if (jobComplete(job) && outcome?.outcome === 'Succeeded' && !modelVersion) modelVersion = await register(run, outcome, ctx);

      const status = computeTrainingRunStatus(run, {
        job,
        pods,
        ...(outcome ? { outcome } : {}),
        ...(epochLines.length > 0 ? { epochLines } : {}),
        ...(modelVersion ? { modelVersion } : {}),
        jobName,
        outputUri: trainingOutputUri(run, config.artifactRoot),
        now: new Date(clock.now()),
      });
      return { status, ...requeueWhile(finished, status, config.progressPollSeconds * 1000) };
    },
  };
}

/**
 * Clock waits of an unfinished run: progress polls (config.progressPollSeconds, a clock wait, so
 * requeueAfter) while it runs, a safety-net recheck while it waits for its pod.
 */
function requeueWhile(finished: boolean, status: TrainingRunStatus, pollMs: number): { requeueAfterMs?: number } {
  if (finished) return {};
  if (status.phase === 'Running') return { requeueAfterMs: pollMs };
  if (status.phase === 'Pending') return { requeueAfterMs: PENDING_RECHECK_MS };
  return {};
}

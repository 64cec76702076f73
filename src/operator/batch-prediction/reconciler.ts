import { BatchPredictionReasons, type BatchPrediction, type BatchPredictionStatus } from '../../shared/api/batch-prediction.js';
import type { BatchProgress } from '../../shared/api/batch-report.js';
import type { ReconcilerDeps } from '../deps.js';
import { Resources } from '../kube/resources.js';
import type { ObjectContext, ObjectReconciler } from '../runtime/object-reconciler.js';
import { isPodOfJob, jobFinished } from '../shared/job-state.js';
import { Annotations, Labels } from '../shared/labels.js';
import type { PodWire } from '../shared/wire.js';
import { forwardedEnv } from '../shared/worker-env.js';
import { batchJobName, batchOutputUri, batchShards, desiredBatchJob, PREDICT_CONTAINER } from './desired.js';
import { resolveModel } from './model.js';
import { BatchPredictionWarningPhases, computeBatchPredictionStatus } from './status.js';
import { latestBatchProgress, outcomesByShard, runningPodsByShard } from './worker-output.js';

/** Safety-net recheck while a batch waits for its pods (as for TrainingRun). */
export const PENDING_RECHECK_MS = 5_000;
/** Log lines read per pod: the worker prints one progress line per committed part, and a few others. */
const LOG_TAIL_LINES = 20;
/** Pod logs read at once. */
const LOG_READS_IN_FLIGHT = 8;

/**
 * The BatchPrediction controller: resolve the model (only until the Job exists: the Job pins the
 * version in an annotation) → server-side apply the Indexed Job when the cache does not have it →
 * delete Jobs of earlier specs → read each shard's outcome (termination message) and each running
 * shard's latest progress line (pod log) → compute status (pure). A finished batch is final for
 * its generation.
 */
export function batchPredictionReconciler(deps: ReconcilerDeps): ObjectReconciler<BatchPrediction> {
  const { kube, caches, clock, config } = deps;
  const podEnv = forwardedEnv(deps.podEnv);

  async function readProgress(pods: readonly PodWire[], ctx: ObjectContext): Promise<Map<number, BatchProgress>> {
    const running = [...runningPodsByShard(pods)];
    const out = new Map<number, BatchProgress>();
    for (let i = 0; i < running.length; i += LOG_READS_IN_FLIGHT) {
      await Promise.all(
        running.slice(i, i + LOG_READS_IN_FLIGHT).map(async ([shard, pod]) => {
          const name = pod.metadata?.name ?? '';
          try {
            const text = await kube.request<string>({
              path: `/api/v1/namespaces/${encodeURIComponent(ctx.namespace)}/pods/${encodeURIComponent(name)}/log`,
              query: { container: PREDICT_CONTAINER, tailLines: LOG_TAIL_LINES },
              text: true,
              timeoutMs: 5_000,
            });
            const line = latestBatchProgress(text);
            if (line) out.set(shard, line);
          } catch (err) {
            // Progress is a nicety: a log that cannot be read now is read on the next poll.
            ctx.logger.debug({ err, pod: name }, 'pod log not readable');
          }
        }),
      );
    }
    return out;
  }

  async function deleteStaleJobs(bp: BatchPrediction, jobName: string, ctx: ObjectContext): Promise<void> {
    for (const stale of caches.jobs.list(ctx.namespace)) {
      const name = stale.metadata?.name;
      if (!name || name === jobName || stale.metadata?.labels?.[Labels.batchPrediction] !== bp.metadata.name) continue;
      if (!stale.metadata.ownerReferences?.some((o) => o.uid === bp.metadata.uid)) continue;
      await kube.delete(Resources.job, ctx.namespace, name);
      ctx.logger.info({ job: name }, 'job of an earlier spec deleted');
    }
  }

  return {
    cache: caches.batchPredictions,
    resource: Resources.batchPrediction,
    reasons: BatchPredictionReasons,
    warningPhases: BatchPredictionWarningPhases,
    invalidSpecStatus: (status, why): BatchPredictionStatus => ({ ...status, phase: 'Failed', failure: why }),
    statusLogFields: (status) => ({ progress: status.progress?.summary, modelVersion: status.modelVersion }),
    async reconcile(bp, ctx) {
      const previous = bp.status;
      if ((previous?.phase === 'Succeeded' || previous?.phase === 'Failed') && previous.observedGeneration === bp.metadata.generation) return {};
      const jobName = batchJobName(bp);
      const outputUri = batchOutputUri(bp, config.artifactRoot);
      const job = caches.jobs.get(ctx.namespace, jobName);
      const now = new Date(clock.now());
      const base = { jobName, shards: batchShards(bp), outputUri, now, outcomes: new Map(), progress: new Map() };
      if (!job) {
        const model = resolveModel(bp, caches.modelVersions.valid(ctx.namespace), caches.inferenceServices.valid(ctx.namespace));
        if (!model.ok) return { status: computeBatchPredictionStatus(bp, { ...base, pods: [], waitingForModel: model.message }) };
        const desired = desiredBatchJob(bp, model.modelVersion, {
          workerImage: config.workerImage,
          artifactRoot: config.artifactRoot,
          ...(config.serviceAccount ? { serviceAccountName: config.serviceAccount } : {}),
          env: podEnv,
        });
        await kube.apply(Resources.job, desired);
        ctx.logger.info({ job: jobName, modelVersion: model.modelVersion.metadata.name }, 'job applied');
        return {};
      }
      await deleteStaleJobs(bp, jobName, ctx);
      const pods = caches.pods.list(ctx.namespace).filter((p) => isPodOfJob(p, jobName));
      const finished = jobFinished(job);
      const modelVersion = job.metadata?.annotations?.[Annotations.modelVersion];
      const status = computeBatchPredictionStatus(bp, {
        ...base,
        job,
        pods,
        ...(modelVersion ? { modelVersion } : {}),
        outcomes: outcomesByShard(pods),
        progress: finished ? new Map() : await readProgress(pods, ctx),
      });
      if (finished) return { status };
      return { status, requeueAfterMs: status.phase === 'Running' ? config.progressPollSeconds * 1000 : PENDING_RECHECK_MS };
    },
  };
}

import type { ModelVersion } from '../../shared/api/model-version.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import { TrainingSweepReasons, type TrainingSweep, type TrainingSweepStatus } from '../../shared/api/training-sweep.js';
import type { ReconcilerDeps } from '../deps.js';
import type { KubeClient } from '../kube/client.js';
import type { EventSpec } from '../kube/events.js';
import { resourcePath, Resources, type ResourceRef } from '../kube/resources.js';
import type { ObjectContext, ObjectReconciler } from '../runtime/object-reconciler.js';
import { servingEligible, winnerPatch } from '../model-version/eligibility.js';
import { Annotations, Labels } from '../shared/labels.js';
import { currentRuns, desiredTrialRun, trialsToStart } from './desired.js';
import { medianPolicy, medianStoppingDecisions, stopDetailsAnnotation, stopMessage, trialHistories, type StopDecision } from './median-stopping.js';
import { computeTrainingSweepStatus, TrainingSweepWarningPhases } from './status.js';
import { expandTrials, type Trial } from './trials.js';

/**
 * The TrainingSweep controller: expand the trials (pure) → the sweep's runs from the cache (owned,
 * labelled with their trial number) → delete runs of an earlier spec (a trial's run is named by
 * a hash of its spec) → apply the runs of the lowest-numbered trials not started yet while fewer
 * than `parallelism` run → compute the leaderboard (pure) → once every trial has
 * finished, mark the best trial's ModelVersion eligible for serving (and an earlier best of this
 * sweep not eligible any more) before reporting Succeeded. A finished sweep is final for its
 * generation. Trial runs' and their ModelVersions' watch events bring the sweep back; nothing here
 * waits on the clock.
 */
export function trainingSweepReconciler(deps: ReconcilerDeps): ObjectReconciler<TrainingSweep> {
  const { kube, caches, clock } = deps;

  /** Deletes runs of earlier specs; applies the runs of trials to start now. Returns the trials started. */
  async function applyRuns(sweep: TrainingSweep, trials: readonly Trial[], ctx: ObjectContext): Promise<{ runs: Map<number, TrainingRun>; start: Trial[] }> {
    const { current: runs, stale } = currentRuns(sweep, trials, caches.trainingRuns.valid(ctx.namespace));
    for (const run of stale) {
      await kube.delete(Resources.trainingRun, ctx.namespace, run.metadata.name);
      ctx.logger.info({ trainingRun: run.metadata.name }, 'trial run of an earlier spec deleted');
    }
    const start = trialsToStart(trials, runs, sweep.spec.parallelism ?? 1);
    for (const trial of start) {
      const desired = desiredTrialRun(sweep, trial);
      await kube.apply(Resources.trainingRun, desired);
      runs.set(trial.trial, desired);
      ctx.logger.info({ trainingRun: desired.metadata.name, trial: trial.trial }, 'trial run applied');
    }
    return { runs, start };
  }

  /**
   * Early stopping: the hopeless running trials (median rule, pure) are asked to stop through
   * their run's kennel.dev/stop annotation, with the figures beside it for the leaderboard; the
   * TrainingRun controller deletes the Job and ends the run Stopped, which frees the slot.
   */
  async function stopHopeless(sweep: TrainingSweep, runs: Map<number, TrainingRun>, ctx: ObjectContext): Promise<StopDecision[]> {
    const spec = sweep.spec.earlyStopping;
    if (!spec) return [];
    const decisions = medianStoppingDecisions(medianPolicy(spec), trialHistories(runs));
    for (const d of decisions) {
      const run = runs.get(d.trial);
      if (!run) continue;
      const annotations = { [Annotations.stop]: stopMessage(sweep.metadata.name, d), [Annotations.sweepStopDetails]: stopDetailsAnnotation(d) };
      await mergePatch(kube, Resources.trainingRun, ctx.namespace, run.metadata.name, { metadata: { annotations } });
      // the leaderboard shows it Stopping now (a status change, so the TrialStopped Event is recorded with it)
      runs.set(d.trial, { ...run, metadata: { ...run.metadata, annotations: { ...run.metadata.annotations, ...annotations } } });
      ctx.logger.info({ trainingRun: run.metadata.name, trial: d.trial, epoch: d.epoch, bestValAccuracy: d.bestValAccuracy, median: d.median, trials: d.trials }, 'hopeless trial stopped');
    }
    return decisions;
  }

  /** Eligibility follows the leaderboard: the best trial's version true, an earlier best of this sweep false. */
  async function markEligibility(sweep: TrainingSweep, status: TrainingSweepStatus, versions: readonly ModelVersion[], ctx: ObjectContext): Promise<void> {
    const best = status.best;
    if (!best) return;
    for (const mv of versions) {
      if (mv.metadata.labels?.[Labels.trainingSweep] !== sweep.metadata.name) continue;
      const isBest = mv.metadata.name === best.modelVersion;
      const marked = mv.metadata.annotations?.[Annotations.servingEligible];
      if (isBest && marked !== 'true') {
        await mergePatch(kube, Resources.modelVersion, ctx.namespace, mv.metadata.name, winnerPatch(sweep.metadata.name, `${sweep.spec.objective.metric} ${best.value}`));
        ctx.logger.info({ modelVersion: mv.metadata.name }, 'best trial marked eligible for serving');
      } else if (!isBest && servingEligible(mv)) {
        await mergePatch(kube, Resources.modelVersion, ctx.namespace, mv.metadata.name, {
          metadata: {
            annotations: {
              [Annotations.servingEligible]: 'false',
              [Annotations.servingEligibleReason]: `a trial of TrainingSweep ${sweep.metadata.name} that is not its best`,
            },
          },
        });
      }
    }
  }

  return {
    cache: caches.trainingSweeps,
    resource: Resources.trainingSweep,
    reasons: TrainingSweepReasons,
    warningPhases: TrainingSweepWarningPhases,
    invalidSpecStatus: (status, why): TrainingSweepStatus => ({ ...status, phase: 'Failed', failure: why }),
    statusLogFields: (status) => ({ trials: status.summary, best: status.best?.modelVersion }),
    async reconcile(sweep, ctx) {
      const previous = sweep.status;
      if ((previous?.phase === 'Succeeded' || previous?.phase === 'Failed') && previous.observedGeneration === sweep.metadata.generation) return {};
      const trials = expandTrials(sweep.spec);
      const { runs, start: started } = await applyRuns(sweep, trials, ctx);
      const stoppedNow = await stopHopeless(sweep, runs, ctx);
      const versions = caches.modelVersions.valid(ctx.namespace);
      const status = computeTrainingSweepStatus(sweep, {
        trials,
        runs,
        modelVersions: new Map(versions.map((v) => [v.metadata.name, v])),
        now: new Date(clock.now()),
      });
      const events: EventSpec[] = started.map((t) => ({
        type: 'Normal',
        reason: 'TrialStarted',
        message: `trial ${t.trial}: TrainingRun ${desiredTrialRun(sweep, t).metadata.name} with ${describe(t)}`,
      }));
      for (const d of stoppedNow) {
        events.push({
          type: 'Normal',
          reason: 'TrialStopped',
          message: `trial ${d.trial}: best validation accuracy ${d.bestValAccuracy} by epoch ${d.epoch} is below ${d.median}, the median of ${d.trials} other trials at that epoch; TrainingRun ${runs.get(d.trial)?.metadata.name ?? ''} stopped`,
        });
      }
      if (status.phase === 'Succeeded' && status.best) {
        await markEligibility(sweep, status, versions, ctx);
        events.push({
          type: 'Normal',
          reason: TrainingSweepReasons.BestTrialSelected,
          message: `trial ${status.best.trial} is the best (${sweep.spec.objective.metric} ${status.best.value}): ${status.best.modelVersion} is eligible for serving, the other trials' versions are not`,
        });
      }
      return { status, events };
    },
  };
}

function describe(trial: Trial): string {
  const parts = Object.entries(trial.parameters).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(', ') : 'the template as it is';
}

/** A JSON merge patch of an object's metadata (here only annotations: a trial version's eligibility, a trial run's stop). */
async function mergePatch(kube: KubeClient, resource: ResourceRef, namespace: string, name: string, body: unknown): Promise<void> {
  await kube.request({
    method: 'PATCH',
    path: resourcePath(resource, namespace, name),
    body,
    contentType: 'application/merge-patch+json',
  });
}

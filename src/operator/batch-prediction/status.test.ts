import { expect } from 'chai';
import { exampleBatchPrediction } from '../../../test/fixtures/api-examples.js';
import type { BatchPrediction } from '../../shared/api/batch-prediction.js';
import type { BatchProgress, BatchShardOutcome } from '../../shared/api/batch-report.js';
import { phaseEvent } from '../shared/phase-event.js';
import type { JobWire, PodWire } from '../shared/wire.js';
import { BatchPredictionWarningPhases, computeBatchPredictionStatus, type BatchObservation } from './status.js';

const now = new Date('2026-03-01T10:00:00.000Z');

function batch(): BatchPrediction {
  const b = exampleBatchPrediction('relabel');
  b.metadata = { ...b.metadata, uid: 'u', generation: 2 };
  return b;
}

function obs(partial: Partial<BatchObservation>): BatchObservation {
  return { pods: [], jobName: 'relabel-0123abcd', shards: 3, outputUri: 'gs://out/x', now, outcomes: new Map(), progress: new Map(), ...partial };
}

const active: JobWire = { status: { active: 3, startTime: '2026-03-01T09:00:00Z' } };
const jobWith = (type: string, reason?: string, message?: string): JobWire => ({ status: { startTime: '2026-03-01T09:00:00Z', conditions: [{ type, status: 'True', reason, message }] } });
const runningPod: PodWire = { status: { phase: 'Running', containerStatuses: [{ name: 'predict', state: { running: {} } }] } };
const line = (shard: number, done: number, failed = 0): BatchProgress => ({ event: 'batch-progress', shard, shards: 3, done, images: 100, total: 300, failed });
const ok = (shard: number, cats: number, failed = 0): BatchShardOutcome => ({
  outcome: 'Succeeded', shard, shards: 3, total: 300, images: 100, predicted: 100 - failed, failed, resumed: 0, perClass: { cat: cats, dog: 100 - failed - cats }, imagesPerSecond: 20,
});
const ready = (s: ReturnType<typeof computeBatchPredictionStatus>) => s.conditions?.find((c) => c.type === 'Ready');
const types = (s: ReturnType<typeof computeBatchPredictionStatus>) => s.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`);

describe('batch-prediction status', () => {
  it('waits for its model, saying which, while there is no Job', () => {
    const s = computeBatchPredictionStatus(batch(), obs({ waitingForModel: 'waiting for InferenceService cats-dogs to serve a version' }));
    expect(s.phase).to.equal('Pending');
    expect(s.observedGeneration).to.equal(2);
    expect(types(s)).to.deep.equal(['Ready=False:WaitingForModel', 'Reconciling=True:WaitingForModel']);
    expect(ready(s)?.message).to.contain('cats-dogs');
    expect(s.progress).to.equal(undefined);
  });

  it('adds up the progress the pods report, never going back, and keeps finished shards\' counts', () => {
    const b = batch();
    const first = computeBatchPredictionStatus(b, obs({ job: active, pods: [runningPod], modelVersion: 'cats-dogs-v3', progress: new Map([[0, line(0, 32)], [1, line(1, 64, 1)]]) }));
    expect(first.phase).to.equal('Running');
    expect(first.modelVersion).to.equal('cats-dogs-v3');
    expect(first.progress).to.deep.include({ done: 96, total: 300, failed: 1, shardsDone: 0, summary: '96/300' });
    expect(ready(first)?.message).to.equal('96/300 images, 0/3 shards done');
    b.status = first;
    // shard 1's pod restarted and has not reported yet; shard 0 finished
    const second = computeBatchPredictionStatus(b, obs({ job: active, pods: [runningPod], outcomes: new Map([[0, ok(0, 40)]]), progress: new Map([[2, line(2, 10)]]) }));
    expect(second.progress?.shards).to.deep.equal([
      { shard: 0, done: 100, images: 100, failed: 0, finished: true },
      { shard: 1, done: 64, images: 100, failed: 1 },
      { shard: 2, done: 10, images: 100, failed: 0 },
    ]);
    expect(second.progress).to.deep.include({ done: 174, shardsDone: 1, summary: '174/300' });
  });

  it('succeeds once the Job completes with every shard\'s outcome, with the counts of all shards', () => {
    const s = computeBatchPredictionStatus(batch(), obs({ job: jobWith('Complete'), outcomes: new Map([[0, ok(0, 40)], [1, ok(1, 50, 2)], [2, ok(2, 60)]]) }));
    expect(s.phase).to.equal('Succeeded');
    expect(s.results).to.deep.equal({ images: 300, predicted: 298, failed: 2, perClass: { cat: 150, dog: 148 }, summaryUri: 'gs://out/x/summary.json' });
    expect(types(s)).to.deep.equal(['Ready=True:Succeeded']);
    expect(s.completionTime).to.equal('2026-03-01T10:00:00Z');
  });

  it('fails on a completed Job that left a shard without an outcome', () => {
    const s = computeBatchPredictionStatus(batch(), obs({ job: jobWith('Complete'), outcomes: new Map([[0, ok(0, 40)]]) }));
    expect(s.failure?.reason).to.equal('MissingWorkerOutcome');
  });

  it('fails with the worker\'s own reason and shard, Stalled, with a Warning event', () => {
    const b = batch();
    b.status = { phase: 'Running' };
    const s = computeBatchPredictionStatus(b, obs({ job: jobWith('Failed', 'MaxFailedIndexesExceeded'), outcomes: new Map([[1, { outcome: 'Failed', reason: 'ModelUnusable', message: 'weights replaced' }]]) }));
    expect(s.failure).to.deep.equal({ reason: 'ModelUnusable', message: 'shard 1: weights replaced' });
    expect(types(s)).to.deep.equal(['Ready=False:ModelUnusable', 'Stalled=True:ModelUnusable']);
    expect(phaseEvent(b.status, s, BatchPredictionWarningPhases)?.type).to.equal('Warning');
    const deadline = computeBatchPredictionStatus(batch(), obs({ job: jobWith('Failed', 'DeadlineExceeded') }));
    expect(deadline.failure?.reason).to.equal('DeadlineExceeded');
    const retries = computeBatchPredictionStatus(batch(), obs({ job: jobWith('Failed', 'FailedIndexes', 'Job has failed indexes') }));
    expect(retries.failure?.reason).to.equal('BackoffLimitExceeded');
  });

  it('is final for its generation', () => {
    const b = batch();
    const done = computeBatchPredictionStatus(b, obs({ job: jobWith('Complete'), outcomes: new Map([[0, ok(0, 1)], [1, ok(1, 1)], [2, ok(2, 1)]]) }));
    b.status = done;
    expect(computeBatchPredictionStatus(b, obs({}))).to.equal(done);
    b.metadata.generation = 3;
    expect(computeBatchPredictionStatus(b, obs({})).phase).to.equal('Pending');
  });

  it('is Pending with the pull error while its image cannot be pulled', () => {
    const pulling: PodWire = { status: { phase: 'Pending', containerStatuses: [{ name: 'predict', state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }] } };
    const s = computeBatchPredictionStatus(batch(), obs({ job: active, pods: [pulling] }));
    expect(s.phase).to.equal('Pending');
    expect(ready(s)?.reason).to.equal('ImagePullFailed');
  });
});

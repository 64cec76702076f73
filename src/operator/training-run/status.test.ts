import { expect } from 'chai';
import { exampleModelVersion, exampleTrainingRun } from '../../../test/fixtures/api-examples.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import type { WorkerSuccess } from '../../shared/api/worker-report.js';
import type { JobWire, PodWire } from '../shared/wire.js';
import { computeTrainingRunStatus, MAX_VAL_ACCURACY_HISTORY, TrainingRunWarningPhases, valAccuracyHistory, type TrainingObservation } from './status.js';
import type { EpochProgress } from '../../shared/api/worker-report.js';
import { phaseEvent } from '../shared/phase-event.js';

const now = new Date('2026-02-01T10:00:00.000Z');
const later = new Date('2026-02-01T10:30:00.000Z');

function run(): TrainingRun {
  const r = exampleTrainingRun('r1');
  r.metadata = { ...r.metadata, uid: 'u1', generation: 3 };
  return r;
}

function obs(partial: Partial<TrainingObservation>): TrainingObservation {
  return { pods: [], jobName: 'r1-abcdef12', outputUri: 'gs://b/r1', now, ...partial };
}

const jobWith = (type: string, reason?: string, message?: string): JobWire => ({
  status: { startTime: '2026-02-01T09:00:00Z', completionTime: type === 'Complete' ? '2026-02-01T09:50:00Z' : undefined, conditions: [{ type, status: 'True', reason, message }] },
});
const running: JobWire = { status: { active: 1, startTime: '2026-02-01T09:00:00Z' } };
const runningPod: PodWire = { status: { phase: 'Running', containerStatuses: [{ name: 'train', state: { running: {} } }] } };

const mv = exampleModelVersion();
const success: WorkerSuccess = {
  outcome: 'Succeeded',
  artifactUri: 'gs://b/r1',
  format: 'tfjs-layers',
  sha256: mv.spec.artifact.sha256,
  classes: ['cat', 'dog'],
  inputShape: [96, 96, 3],
  datasetUri: 'gs://d',
  datasetDigest: 'sha256:x',
  skippedFiles: 0,
  metrics: mv.spec.metrics,
  codeVersion: '0.1.0',
  backend: 'wasm',
};

function ready(s: ReturnType<typeof computeTrainingRunStatus>) {
  return s.conditions?.find((c) => c.type === 'Ready');
}
const types = (s: ReturnType<typeof computeTrainingRunStatus>) => s.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`);

describe('training-run status', () => {
  const killedPod = (name: string, start: string): PodWire => ({
    metadata: { name },
    status: { phase: 'Failed', startTime: start, containerStatuses: [{ name: 'train', state: { terminated: { exitCode: 137, reason: 'Error' } } }] },
  });

  it('a retried pod: attempts in status, and the Running message names the retry and why the last pod died (a SIGKILL is not an OOM)', () => {
    const job: JobWire = { spec: { backoffLimit: 2, template: {} }, status: { active: 1, failed: 1, startTime: '2026-02-01T09:00:00Z' } };
    const s = computeTrainingRunStatus(run(), obs({ job, pods: [killedPod('p1', '2026-02-01T09:00:00Z'), { ...runningPod, status: { ...runningPod.status, startTime: '2026-02-01T09:05:00Z' } }] }));
    expect(s.phase).to.equal('Running');
    expect(s.attempts).to.deep.equal({ failed: 1, backoffLimit: 2, lastFailure: 'killed by SIGKILL (exit code 137)' });
    expect(ready(s)?.message).to.match(/attempt 2 of 3; the previous pod killed by SIGKILL \(exit code 137\)/);
  });

  it('every attempt failed: BackoffLimitExceeded says how often and how the last attempt ended', () => {
    const job: JobWire = { spec: { backoffLimit: 1, template: {} }, status: { failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } };
    const last: PodWire = { metadata: { name: 'p2' }, status: { phase: 'Failed', startTime: '2026-02-01T09:05:00Z', containerStatuses: [{ name: 'train', state: { terminated: { exitCode: 134, reason: 'Error' } } }] } };
    const s = computeTrainingRunStatus(run(), obs({ job, pods: [killedPod('p1', '2026-02-01T09:00:00Z'), last] }));
    expect(s.phase).to.equal('Failed');
    expect(s.failure?.reason).to.equal('BackoffLimitExceeded');
    expect(s.failure?.message).to.equal('the training pod failed 2 times (backoffLimit 1); the last attempt killed by SIGABRT (exit code 134): Job has reached the specified backoff limit');
    expect(s.attempts).to.deep.include({ failed: 2, backoffLimit: 1 });
  });

  it('is Pending while the Job is being created, with observedGeneration and Reconciling', () => {
    const s = computeTrainingRunStatus(run(), obs({}));
    expect(s.phase).to.equal('Pending');
    expect(s.observedGeneration).to.equal(3);
    expect(types(s)).to.deep.equal(['Ready=False:JobCreated', 'Reconciling=True:JobCreated']);
  });

  const line = (epoch: number, valAccuracy?: number): EpochProgress => ({ event: 'epoch', epoch, epochs: 5, loss: 1, accuracy: 0.5, ...(valAccuracy !== undefined ? { valAccuracy } : {}) });

  it('keeps the validation accuracy per epoch across log polls, and starts over when a pod restarts from epoch 1', () => {
    const first = computeTrainingRunStatus(run(), obs({ job: running, pods: [runningPod], epochLines: [line(1, 0.5), line(2, 0.61234)] }));
    expect(first.progress?.valAccuracyHistory).to.deep.equal([0.5, 0.6123]);
    expect(first.progress?.summary).to.equal('2/5');
    // the next poll's tail has scrolled past epoch 1: the history keeps it
    const second = computeTrainingRunStatus({ ...run(), status: first }, obs({ job: running, pods: [runningPod], epochLines: [line(2, 0.61234), line(3, 0.7)] }));
    expect(second.progress?.valAccuracyHistory).to.deep.equal([0.5, 0.6123, 0.7]);
    // a poll that reads nothing keeps what status had
    const quiet = computeTrainingRunStatus({ ...run(), status: second }, obs({ job: running, pods: [runningPod] }));
    expect(quiet.progress?.valAccuracyHistory).to.deep.equal([0.5, 0.6123, 0.7]);
    // the pod restarted: its log starts again at epoch 1, the earlier attempt's later epochs go
    const restarted = computeTrainingRunStatus({ ...run(), status: second }, obs({ job: running, pods: [runningPod], epochLines: [line(1, 0.4)] }));
    expect(restarted.progress?.valAccuracyHistory).to.deep.equal([0.4]);
    // a new Job (a new spec) starts a new history
    const respec = computeTrainingRunStatus({ ...run(), status: second }, obs({ jobName: 'r1-other', job: running, pods: [runningPod], epochLines: [line(1, 0.3)] }));
    expect(respec.progress?.valAccuracyHistory).to.deep.equal([0.3]);
  });

  it('a stop request ends an unfinished run Failed/Stopped with its why, keeping its progress; a Job that already ended reports how it ended', () => {
    const trained = computeTrainingRunStatus(run(), obs({ job: running, pods: [runningPod], epochLines: [line(1, 0.5), line(2, 0.55)] }));
    const s = computeTrainingRunStatus({ ...run(), status: trained }, obs({ stop: 'median stopping: hopeless' }));
    expect(s.phase).to.equal('Failed');
    expect(s.failure).to.deep.equal({ reason: 'Stopped', message: 'median stopping: hopeless' });
    expect(s.progress?.valAccuracyHistory).to.deep.equal([0.5, 0.55]);
    expect(s.startTime).to.equal('2026-02-01T09:00:00Z');
    expect(s.completionTime).to.equal('2026-02-01T10:00:00Z');
    expect(ready(s)).to.deep.include({ status: 'False', reason: 'Stopped', message: 'median stopping: hopeless' });
    expect(TrainingRunWarningPhases).to.include(s.phase);
    expect(computeTrainingRunStatus(run(), obs({ stop: ' ' })).failure?.message).to.equal('stopped by the kennel.dev/stop annotation');
    const done = computeTrainingRunStatus(run(), obs({ stop: 'too late', job: jobWith('Complete'), outcome: success, modelVersion: 'cats-v1' }));
    expect(done.phase).to.equal('Succeeded');
  });

  it('keeps only a contiguous, bounded history', () => {
    expect(valAccuracyHistory([0.5], [line(3, 0.7), line(4, 0.8)]), 'epoch 2 scrolled out of the tail: no hole').to.deep.equal([0.5]);
    expect(valAccuracyHistory(undefined, [line(1), line(2)]), 'no validation split').to.equal(undefined);
    const long = Array.from({ length: MAX_VAL_ACCURACY_HISTORY }, () => 0.5);
    expect(valAccuracyHistory(long, [line(MAX_VAL_ACCURACY_HISTORY + 1, 0.9)])).to.have.length(MAX_VAL_ACCURACY_HISTORY);
  });

  it('shows progress while training', () => {
    const s = computeTrainingRunStatus(
      run(),
      obs({ job: running, pods: [runningPod], epochLines: [{ event: 'epoch', epoch: 4, epochs: 10, loss: 0.5, accuracy: 0.7, valAccuracy: 0.71 }] }),
    );
    expect(s.phase).to.equal('Running');
    expect(s.progress).to.deep.include({ epoch: 4, epochs: 10, summary: '4/10', valAccuracy: 0.71 });
    expect(ready(s)?.message).to.equal('epoch 4/10, validation accuracy 0.710');
    expect(s.startTime).to.equal('2026-02-01T09:00:00Z');
  });

  it('shows metrics with 4 decimals, as kubectl get prints them (VAL-ACCURACY)', () => {
    const r = run();
    const s = computeTrainingRunStatus(
      r,
      obs({ job: running, pods: [runningPod], epochLines: [{ event: 'epoch', epoch: 2, epochs: 10, loss: 0.123456789, accuracy: 2 / 3, valLoss: 0.5, valAccuracy: 30 / 31, imagesPerSecond: 41.26 }] }),
    );
    expect(s.progress).to.deep.include({ loss: 0.1235, accuracy: 0.6667, valAccuracy: 0.9677, valLoss: 0.5, imagesPerSecond: 41.3 });
  });

  it('waits for the ModelVersion before Succeeded, then reports accuracy and the version', () => {
    const job = jobWith('Complete');
    const registering = computeTrainingRunStatus(run(), obs({ job, outcome: success }));
    expect(registering.phase).to.equal('Running');
    expect(ready(registering)?.reason).to.equal('RegisteringModel');
    const done = computeTrainingRunStatus(run(), obs({ job, outcome: success, modelVersion: 'cats-dogs-v1' }));
    expect(done.phase).to.equal('Succeeded');
    expect(done.accuracy).to.equal(0.84);
    expect(done.modelVersion).to.equal('cats-dogs-v1');
    expect(done.completionTime).to.equal('2026-02-01T09:50:00Z');
    expect(types(done)).to.deep.equal(['Ready=True:Succeeded']);
  });

  it('stays finished for its generation even when the Job is gone', () => {
    const r = run();
    r.status = computeTrainingRunStatus(r, obs({ job: jobWith('Complete'), outcome: success, modelVersion: 'cats-dogs-v1' }));
    expect(computeTrainingRunStatus(r, obs({ now: later }))).to.equal(r.status);
    r.metadata.generation = 4;
    expect(computeTrainingRunStatus(r, obs({ now: later })).phase).to.equal('Pending');
  });

  const failures: [string, Partial<TrainingObservation>, string][] = [
    ['the worker says why', { job: jobWith('Failed', 'PodFailurePolicy'), outcome: { outcome: 'Failed', reason: 'DatasetNotFound', message: 'gs://d: no objects' } }, 'DatasetNotFound'],
    [
      'the container was OOM-killed',
      { job: jobWith('Failed', 'BackoffLimitExceeded'), pods: [{ status: { phase: 'Failed', containerStatuses: [{ name: 'train', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] } }] },
      'OOMKilled',
    ],
    ['the deadline passed', { job: jobWith('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline') }, 'DeadlineExceeded'],
    ['retries ran out', { job: jobWith('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit') }, 'BackoffLimitExceeded'],
    ['the Job succeeded without an outcome', { job: jobWith('Complete') }, 'MissingWorkerOutcome'],
  ];
  for (const [title, o, reason] of failures) {
    it(`fails with ${reason} when ${title}`, () => {
      const s = computeTrainingRunStatus(run(), obs(o));
      expect(s.phase).to.equal('Failed');
      expect(s.failure?.reason).to.equal(reason);
      expect(types(s)).to.deep.equal([`Ready=False:${reason}`, `Stalled=True:${reason}`]);
      expect(s.completionTime).to.be.a('string');
    });
  }

  it('says when the pod cannot be scheduled or its image cannot be pulled', () => {
    const unschedulable: PodWire = { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes: insufficient memory' }] } };
    const s1 = computeTrainingRunStatus(run(), obs({ job: running, pods: [unschedulable] }));
    expect(s1.phase).to.equal('Pending');
    expect(ready(s1)?.reason).to.equal('Unschedulable');
    expect(ready(s1)?.message).to.contain('insufficient memory');
    const pull: PodWire = { status: { phase: 'Pending', containerStatuses: [{ name: 'train', state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }] } };
    expect(ready(computeTrainingRunStatus(run(), obs({ job: running, pods: [pull] })))?.reason).to.equal('ImagePullFailed');
    // Any other reason the container waits stays Pending, but the message names it.
    const create: PodWire = { status: { phase: 'Pending', containerStatuses: [{ name: 'train', state: { waiting: { reason: 'CreateContainerError', message: 'RTNETLINK answers: File exists' } } }] } };
    const s2 = computeTrainingRunStatus(run(), obs({ job: running, pods: [create] }));
    expect(ready(s2)?.reason).to.equal('PodPending');
    expect(ready(s2)?.message).to.contain('CreateContainerError: RTNETLINK answers: File exists');
    const deadline = computeTrainingRunStatus(run(), obs({ job: jobWith('Failed', 'DeadlineExceeded'), pods: [pull] }));
    expect(deadline.failure?.reason).to.equal('DeadlineExceeded');
    expect(deadline.failure?.message).to.contain('cannot pull');
  });

  it('keeps lastTransitionTime while the phase only progresses, and emits an Event on phase change', () => {
    const r = run();
    const s1 = computeTrainingRunStatus(r, obs({ job: running, pods: [runningPod] }));
    r.status = s1;
    const s2 = computeTrainingRunStatus(r, obs({ job: running, pods: [runningPod], now: later, epochLines: [{ event: 'epoch', epoch: 2, epochs: 3, loss: 1, accuracy: 0.5 }] }));
    expect(ready(s2)?.lastTransitionTime).to.equal(ready(s1)?.lastTransitionTime);
    expect(phaseEvent(s1, s2, TrainingRunWarningPhases)).to.equal(undefined);
    const failed = computeTrainingRunStatus(r, obs({ job: jobWith('Failed', 'DeadlineExceeded') }));
    expect(phaseEvent(s1, failed, TrainingRunWarningPhases)).to.deep.include({ type: 'Warning', reason: 'DeadlineExceeded' });
  });
});

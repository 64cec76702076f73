import { expect } from 'chai';
import { exampleModelVersion, exampleTrainingSweep } from '../../../test/fixtures/api-examples.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import type { TrainingSweep } from '../../shared/api/training-sweep.js';
import { desiredTrialRun } from './desired.js';
import { computeTrainingSweepStatus } from './status.js';
import { expandTrials } from './trials.js';

const now = new Date('2026-03-01T10:00:00Z');

function sweep(maxTrials = 4): TrainingSweep {
  const s = exampleTrainingSweep('search');
  s.metadata.uid = 'aaaaaaaa-0000-4000-8000-000000000001';
  s.metadata.generation = 1;
  s.spec.maxTrials = maxTrials;
  return s;
}

/** A registered version whose gate has been decided (`gate: null` for one still being decided). */
function mv(name: string, accuracy: number, ece?: number, gate: 'Passed' | 'Rejected' | null = 'Passed'): ModelVersion {
  const v = exampleModelVersion(name, Number(name.split('v').pop()));
  v.spec.metrics.accuracy = accuracy;
  if (ece !== undefined) v.spec.metrics.expectedCalibrationError = ece;
  if (gate) {
    const reasons = gate === 'Passed' ? ['PASS accuracy 0.9 >= 0.75'] : ['FAIL recall 0.41 < 0.6 for class cat', 'PASS accuracy 0.95 >= 0.75'];
    v.status = { phase: gate, gate: { passed: gate === 'Passed', policy: { minAccuracy: 0.75 }, reasons, evaluatedAt: '2026-03-01T09:59:00Z' } };
  }
  return v;
}

type Outcome = { phase: 'Pending' | 'Running' | 'Failed' } | { phase: 'Succeeded'; mv: string };

function observe(s: TrainingSweep, outcomes: (Outcome | undefined)[], versions: ModelVersion[]) {
  const trials = expandTrials(s.spec);
  const runs = new Map<number, TrainingRun>();
  outcomes.forEach((o, i) => {
    const t = trials[i];
    if (!o || !t) return;
    const run = desiredTrialRun(s, t);
    run.metadata.generation = 1;
    run.status = { phase: o.phase, observedGeneration: 1, ...(o.phase === 'Succeeded' ? { modelVersion: o.mv } : {}) };
    if (o.phase === 'Failed') run.status.failure = { reason: 'OOMKilled', message: 'out of memory' };
    runs.set(i, run);
  });
  return { trials, runs, modelVersions: new Map(versions.map((v) => [v.metadata.name, v])), now };
}

describe('training-sweep status', () => {
  it('early stopping: a trial asked to stop shows Stopping with its figures, then Stopped — finished, not failed, never the winner', () => {
    const s = sweep(3);
    s.spec.earlyStopping = { algorithm: 'Median', minEpochs: 2 };
    const figures = '{"epoch":2,"bestValAccuracy":0.41,"median":0.78,"trials":2}';
    const asked = observe(s, [{ phase: 'Running' }, { phase: 'Running' }, { phase: 'Running' }], []);
    const r2 = asked.runs.get(2) as TrainingRun;
    r2.metadata.annotations = { 'kennel.dev/stop': 'median stopping ...', 'kennel.dev/sweep-stop': figures };
    const stopping = computeTrainingSweepStatus(s, asked);
    expect(stopping.leaderboard?.[2]).to.deep.include({ phase: 'Stopping', stopped: { epoch: 2, bestValAccuracy: 0.41, median: 0.78, trials: 2 } });
    expect(stopping).to.deep.include({ phase: 'Running', running: 3, stopped: 0, earlyStopping: 'Median (minEpochs 2, minTrials 3)' });

    const done = observe(s, [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }, { phase: 'Succeeded', mv: 'cats-dogs-v2' }, { phase: 'Failed' }], [mv('cats-dogs-v1', 0.8), mv('cats-dogs-v2', 0.9)]);
    const stoppedRun = done.runs.get(2) as TrainingRun;
    stoppedRun.metadata.annotations = { 'kennel.dev/stop': 'median stopping ...', 'kennel.dev/sweep-stop': figures };
    stoppedRun.status = { ...stoppedRun.status, failure: { reason: 'Stopped', message: 'median stopping ...' } };
    const final = computeTrainingSweepStatus(s, done);
    expect(final).to.deep.include({ phase: 'Succeeded', failed: 0, stopped: 1, summary: '3/3', succeeded: 2 });
    expect(final.best?.trial).to.equal(1);
    expect(final.leaderboard?.[2]).to.deep.include({ phase: 'Stopped', stopped: { epoch: 2, bestValAccuracy: 0.41, median: 0.78, trials: 2 } });
    expect(final.leaderboard?.[2]?.best).to.equal(undefined);
    expect(final.conditions?.find((c) => c.type === 'Ready')?.message).to.match(/\(1 stopped early\)$/);
    // stopped by hand (no figures): still Stopped, not failed
    stoppedRun.metadata.annotations = { 'kennel.dev/stop': 'not needed' };
    const { stopped: _figures, ...withoutFigures } = final.leaderboard?.[2] ?? {};
    expect(computeTrainingSweepStatus(s, done).leaderboard?.[2]).to.deep.equal(withoutFigures);
  });

  it('is Pending before any trial, and Running with a leaderboard while trials run', () => {
    const s = sweep();
    const pending = computeTrainingSweepStatus(s, observe(s, [], []));
    expect(pending).to.deep.include({ phase: 'Pending', trials: 4, summary: '0/4', running: 0 });
    expect(pending.leaderboard?.map((r) => r.phase)).to.deep.equal(['NotStarted', 'NotStarted', 'NotStarted', 'NotStarted']);
    const running = computeTrainingSweepStatus(s, observe(s, [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }, { phase: 'Running' }], [mv('cats-dogs-v1', 0.8)]));
    expect(running).to.deep.include({ phase: 'Running', summary: '1/4', running: 1, succeeded: 1, objective: 'accuracy (Maximize)' });
    expect(running.best).to.equal(undefined);
    expect(running.leaderboard?.[0]).to.deep.include({ trial: 0, modelVersion: 'cats-dogs-v1', value: 0.8, rank: 1 });
    expect(running.leaderboard?.[0]?.best).to.equal(undefined);
    expect(running.leaderboard?.[0]?.parameters).to.deep.equal({ imageSize: 64, learningRate: 0.001, horizontalFlip: true });
    const ready = running.conditions?.find((c) => c.type === 'Ready');
    expect(ready).to.deep.include({ status: 'False', reason: 'TrialsRunning' });
    expect(running.conditions?.find((c) => c.type === 'Reconciling')?.status).to.equal('True');
  });

  it('waits for a succeeded trial\'s ModelVersion to reach the cache before counting it finished', () => {
    const s = sweep(1);
    const st = computeTrainingSweepStatus(s, observe(s, [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }], []));
    expect(st).to.deep.include({ phase: 'Running', summary: '0/1' });
    expect(st.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal('WaitingForModelVersions');
  });

  it('waits for a trial version\'s gate verdict before counting the trial finished', () => {
    const s = sweep(1);
    const st = computeTrainingSweepStatus(s, observe(s, [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }], [mv('cats-dogs-v1', 0.9, undefined, null)]));
    expect(st).to.deep.include({ phase: 'Running', summary: '0/1' });
    expect(st.best).to.equal(undefined);
    expect(st.leaderboard?.[0]).to.deep.include({ value: 0.9, rank: 1 });
    expect(st.leaderboard?.[0]?.gate).to.equal(undefined);
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.reason).to.equal('WaitingForModelVersions');
    expect(ready?.message).to.include('waiting for its ModelVersion and gate verdict');
  });

  it('passes over a better trial whose version the gate rejected: the best that passed wins, and the message says why', () => {
    const s = sweep(3);
    const obs = observe(
      s,
      [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }, { phase: 'Succeeded', mv: 'cats-dogs-v2' }, { phase: 'Succeeded', mv: 'cats-dogs-v3' }],
      [mv('cats-dogs-v1', 0.8), mv('cats-dogs-v2', 0.95, undefined, 'Rejected'), mv('cats-dogs-v3', 0.85)],
    );
    const st = computeTrainingSweepStatus(s, obs);
    expect(st.phase).to.equal('Succeeded');
    expect(st.best).to.deep.include({ trial: 2, modelVersion: 'cats-dogs-v3', value: 0.85 });
    expect(st.leaderboard?.map((r) => [r.rank, r.gate, r.best ?? false])).to.deep.equal([
      [3, 'Passed', false],
      [1, 'Rejected', false],
      [2, 'Passed', true],
    ]);
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    expect(ready).to.deep.include({ status: 'True', reason: 'BestTrialSelected' });
    expect(ready?.message).to.include('trial 1 ranked higher but its ModelVersion was rejected by the evaluation gate');
  });

  it('fails, stalled, when every trial version was rejected by its gate, naming the best one\'s failed checks', () => {
    const s = sweep(2);
    const st = computeTrainingSweepStatus(
      s,
      observe(s, [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }, { phase: 'Succeeded', mv: 'cats-dogs-v2' }], [mv('cats-dogs-v1', 0.7, undefined, 'Rejected'), mv('cats-dogs-v2', 0.9, undefined, 'Rejected')]),
    );
    expect(st).to.deep.include({ phase: 'Failed', succeeded: 2, failed: 0 });
    expect(st.best).to.equal(undefined);
    expect(st.leaderboard?.some((r) => r.best)).to.equal(false);
    expect(st.failure?.reason).to.equal('NoTrialPassedGate');
    expect(st.failure?.message).to.include('trial 1 (cats-dogs-v2, 0.9), was rejected: FAIL recall 0.41 < 0.6 for class cat');
    expect(st.failure?.message).not.to.include('PASS');
    expect(st.conditions?.find((c) => c.type === 'Stalled')?.status).to.equal('True');
  });

  it('marks the best once every trial has finished, ranks the others and counts failures', () => {
    const s = sweep();
    const obs = observe(
      s,
      [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }, { phase: 'Succeeded', mv: 'cats-dogs-v2' }, { phase: 'Failed' }, { phase: 'Succeeded', mv: 'cats-dogs-v3' }],
      [mv('cats-dogs-v1', 0.8), mv('cats-dogs-v2', 0.9), mv('cats-dogs-v3', 0.9)],
    );
    const st = computeTrainingSweepStatus(s, obs);
    expect(st).to.deep.include({ phase: 'Succeeded', summary: '4/4', running: 0, succeeded: 3, failed: 1 });
    // a tie goes to the lower trial number
    expect(st.best).to.deep.include({ trial: 1, modelVersion: 'cats-dogs-v2', value: 0.9 });
    expect(st.best?.trainingRun).to.match(/^search-1-[0-9a-f]{8}$/).and.equal(st.leaderboard?.[1]?.trainingRun);
    expect(st.leaderboard?.map((r) => [r.rank, r.best ?? false, r.failure])).to.deep.equal([
      [3, false, undefined],
      [1, true, undefined],
      [undefined, false, 'OOMKilled'],
      [2, false, undefined],
    ]);
    expect(st.conditions?.find((c) => c.type === 'Ready')).to.deep.include({ status: 'True', reason: 'BestTrialSelected' });
    expect(st.completionTime).to.equal('2026-03-01T10:00:00Z');
    // final for its generation
    expect(computeTrainingSweepStatus({ ...s, status: st }, observe(s, [], []))).to.equal(st);
  });

  it('ranks by a metric to minimize', () => {
    const s = sweep(2);
    s.spec.objective = { metric: 'expectedCalibrationError' };
    const st = computeTrainingSweepStatus(
      s,
      observe(s, [{ phase: 'Succeeded', mv: 'cats-dogs-v1' }, { phase: 'Succeeded', mv: 'cats-dogs-v2' }], [mv('cats-dogs-v1', 0.9, 0.08), mv('cats-dogs-v2', 0.8, 0.03)]),
    );
    expect(st.objective).to.equal('expectedCalibrationError (Minimize)');
    expect(st.best?.modelVersion).to.equal('cats-dogs-v2');
  });

  it('fails, stalled, when no trial produced a ModelVersion', () => {
    const s = sweep(2);
    const st = computeTrainingSweepStatus(s, observe(s, [{ phase: 'Failed' }, { phase: 'Failed' }], []));
    expect(st).to.deep.include({ phase: 'Failed', failed: 2 });
    expect(st.failure?.reason).to.equal('NoTrialSucceeded');
    expect(st.conditions?.find((c) => c.type === 'Stalled')?.status).to.equal('True');
  });
});

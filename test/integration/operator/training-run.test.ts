import { expect } from 'chai';
import type { Testbed } from '../../../local-cluster/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { KubeApiError } from '../../../src/operator/kube/errors.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import type { TrainingSweepStatus } from '../../../src/shared/api/training-sweep.js';
import {
  createNamespace,
  list,
  spawnOperator,
  startBed,
  startInProcess,
  stopProcess,
  trainingRun,
  waitFor,
  waitForStatus,
  type OperatorProcess,
  type Phased,
} from './helpers.js';
import { sigkillPod } from './pod-kill.js';

type Obj = KubeObject & Phased;
const ready = (o: Obj) => o.status?.conditions?.find((c) => c.type === 'Ready');

/**
 * TrainingRun → Job → ModelVersion against the real API server and Job controller of the test
 * bed. The node runs a contract-exact fake `kennel train` (fixtures/fake-kennel-cli.mjs): the
 * operator's side of the contract is what is tested here; the worker's side has its own tests.
 */
describe('operator: TrainingRun', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let kube: KubeClient;
  let operator: RunningOperator | undefined;
  const ns = 'runs';

  before(async function () {
    this.timeout(180_000);
    ({ bed, kube } = await startBed());
    await createNamespace(kube, ns);
    await createNamespace(kube, 'restart');
  });
  after(async () => {
    await operator?.stop();
    kube?.close();
    await bed?.stop();
  });

  describe('with one operator running', () => {
    before(async () => {
      operator = await startInProcess(bed, { namespaces: [ns] });
    });
    after(async () => {
      await operator?.stop();
      operator = undefined;
    });

    it('a successful Job yields a ModelVersion with the worker\'s metrics and lineage, and no owner', async () => {
      await kube.create(Resources.trainingRun, trainingRun(ns, 'good', { model: 'pets', dataset: { uri: 'file:///data/acc-0.93/' }, hyperparameters: { epochs: 2 } }));
      const run = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'good', (o) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', 'run good to finish');
      expect(run.status?.phase, JSON.stringify(run.status)).to.equal('Succeeded');
      expect(run.status?.modelVersion).to.equal('pets-v1');
      expect(run.status?.accuracy).to.equal(0.93);
      expect(ready(run)?.status).to.equal('True');
      const jobs = await list(kube, Resources.job, ns, 'kennel.dev/training-run=good');
      expect(jobs.map((j) => j.metadata?.name)).to.deep.equal([run.status?.jobName]);
      const mv = (await kube.get<Obj & { spec: Record<string, unknown> }>(Resources.modelVersion, ns, 'pets-v1'))!;
      expect(mv.spec.version).to.equal(1);
      expect((mv.spec.metrics as { accuracy: number }).accuracy).to.equal(0.93);
      expect((mv.spec.lineage as { trainingRun: string }).trainingRun).to.equal('good');
      expect(mv.metadata?.ownerReferences ?? [], 'ModelVersions outlive their run').to.deep.equal([]);
      const passed = await waitForStatus<Obj>(kube, Resources.modelVersion, ns, 'pets-v1', (o) => o.status?.phase !== undefined, 'gate decided');
      expect(passed.status?.phase).to.equal('Passed');
    });

    it('a ModelVersion below its threshold is Rejected with the reason', async () => {
      await kube.create(
        Resources.trainingRun,
        trainingRun(ns, 'weak', { model: 'weak', dataset: { uri: 'file:///data/acc-0.5/' }, hyperparameters: { epochs: 1 }, evaluation: { minAccuracy: 0.7 } }),
      );
      await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'weak', (o) => o.status?.phase === 'Succeeded', 'run weak to succeed');
      const mv = await waitForStatus<Obj>(kube, Resources.modelVersion, ns, 'weak-v1', (o) => o.status?.phase !== undefined, 'gate decided');
      expect(mv.status?.phase).to.equal('Rejected');
      expect(ready(mv)?.reason).to.equal('GateFailed');
      expect(ready(mv)?.message).to.match(/accuracy 0\.500 < minAccuracy 0\.700/);
    });

    it('a failed Job yields a Failed run with the worker\'s reason, a Stalled condition and a Warning event', async () => {
      await kube.create(Resources.trainingRun, trainingRun(ns, 'broken', { model: 'pets', dataset: { uri: 'gs://bucket/missing/' } }));
      const run = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'broken', (o) => o.status?.phase === 'Failed', 'run broken to fail');
      expect((run.status?.failure as { reason: string }).reason).to.equal('DatasetNotFound');
      expect(ready(run)).to.include({ status: 'False', reason: 'DatasetNotFound' });
      expect(run.status?.conditions?.find((c) => c.type === 'Stalled')?.status).to.equal('True');
      const events = await waitFor(
        async () => {
          const all = await list<KubeObject & { reason?: string; type?: string; involvedObject?: { name?: string } }>(kube, Resources.event, ns);
          const mine = all.filter((e) => e.involvedObject?.name === 'broken');
          return mine.some((e) => e.type === 'Warning') ? mine : undefined;
        },
        { timeoutMs: 10_000, what: 'a Warning event on run broken' },
      );
      expect(events.find((e) => e.type === 'Warning')?.reason).to.equal('DatasetNotFound');
    });

    it('a training pod SIGKILLed mid-run is retried within backoffLimit: status says so, and the retry finishes the run', async () => {
      type Attempts = { failed: number; backoffLimit: number; lastFailure?: string };
      const attempts = (o: Obj) => o.status?.attempts as Attempts | undefined;
      await kube.create(Resources.trainingRun, trainingRun(ns, 'killed', { model: 'sturdy', dataset: { uri: 'file:///data/slow/acc-0.9/' }, hyperparameters: { epochs: 5 }, backoffLimit: 1 }));
      await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'killed', (o) => o.status?.phase === 'Running' && ((o.status?.progress as { epoch?: number } | undefined)?.epoch ?? 0) >= 1, 'run killed to train', 60_000);
      const [pod] = await list(kube, Resources.pod, ns, 'kennel.dev/training-run=killed');
      const killedAt = Date.now();
      sigkillPod(pod!.metadata!.name!);
      const retrying = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'killed', (o) => (attempts(o)?.failed ?? 0) >= 1 && o.status?.phase === 'Running', 'the run to say it is retrying', 60_000);
      const retryMs = Date.now() - killedAt;
      expect(attempts(retrying)).to.deep.equal({ failed: 1, backoffLimit: 1, lastFailure: 'killed by SIGKILL (exit code 137)' });
      expect(ready(retrying)?.message).to.match(/attempt 2 of 2; the previous pod killed by SIGKILL/);
      const done = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'killed', (o) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', 'run killed to finish', 60_000);
      console.log(`      training pod SIGKILLed: retry reported after ${retryMs} ms, run ${String(done.status?.phase)} after ${Date.now() - killedAt} ms`);
      expect(done.status?.phase, JSON.stringify(done.status)).to.equal('Succeeded');
      expect(attempts(done)?.failed).to.equal(1);
      expect(await list(kube, Resources.job, ns, 'kennel.dev/training-run=killed'), 'one Job, retried in place').to.have.length(1);
      expect(await list(kube, Resources.pod, ns, 'kennel.dev/training-run=killed'), 'two pods: the killed one and its retry').to.have.length(2);
    });

    it('a run whose every attempt fails reports the last attempt\'s reason and how often it was tried', async () => {
      await kube.create(Resources.trainingRun, trainingRun(ns, 'doomed', { model: 'doomed', dataset: { uri: 'file:///data/crash/' }, backoffLimit: 1 }));
      const run = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'doomed', (o) => o.status?.phase === 'Failed', 'run doomed to fail', 90_000);
      const failure = run.status?.failure as { reason: string; message: string };
      expect(failure.reason).to.equal('StorageUnavailable');
      expect(failure.message).to.match(/GCS unavailable for file:\/\/\/data\/crash\/ after retries/);
      expect(run.status?.attempts).to.deep.include({ failed: 2, backoffLimit: 1 });
      expect((run.status?.attempts as { lastFailure?: string }).lastFailure).to.equal('exited with code 2');
      expect(ready(run)).to.include({ status: 'False', reason: 'StorageUnavailable' });
      expect(await list(kube, Resources.pod, ns, 'kennel.dev/training-run=doomed'), 'backoffLimit 1: two attempts').to.have.length(2);
    });

    it('numbers versions monotonically when several runs of one model finish at once', async () => {
      const names = ['burst-a', 'burst-b', 'burst-c'];
      await Promise.all(names.map((n) => kube.create(Resources.trainingRun, trainingRun(ns, n, { model: 'burst', dataset: { uri: 'file:///data/acc-0.9/' }, hyperparameters: { epochs: 1 } }))));
      const runs = await Promise.all(names.map((n) => waitForStatus<Obj>(kube, Resources.trainingRun, ns, n, (o) => o.status?.phase === 'Succeeded', `run ${n}`)));
      const versions = runs.map((r) => r.status?.modelVersion).sort();
      expect(versions).to.deep.equal(['burst-v1', 'burst-v2', 'burst-v3']);
      const mvs = await list(kube, Resources.modelVersion, ns, 'kennel.dev/model=burst');
      expect(mvs).to.have.length(3);
    });

    it('shows progress (epoch k of n) while the Job runs', async () => {
      await kube.create(Resources.trainingRun, trainingRun(ns, 'slow', { model: 'slow', dataset: { uri: 'file:///data/slow/acc-0.9/' }, hyperparameters: { epochs: 30 } }));
      const run = await waitForStatus<Obj>(
        kube,
        Resources.trainingRun,
        ns,
        'slow',
        (o) => o.status?.phase === 'Running' && ((o.status?.progress as { epoch?: number } | undefined)?.epoch ?? 0) >= 1,
        'progress on run slow',
        40_000,
      );
      const progress = run.status?.progress as { epoch: number; epochs: number; summary: string; valAccuracyHistory?: number[] };
      expect(progress.epochs).to.equal(30);
      expect(progress.summary).to.equal(`${progress.epoch}/30`);
      // the stand-in reports validation accuracy 0.9 * k / 30 after epoch k: every epoch so far, in order
      expect(progress.valAccuracyHistory).to.deep.equal(Array.from({ length: progress.epoch }, (_, i) => Math.round((0.9 * (i + 1) / 30) * 1e4) / 1e4));
      // and the Ready condition says which epoch, from the same status write
      const ready = (run.status?.conditions as { type: string; message: string }[] | undefined)?.find((c) => c.type === 'Ready');
      expect(ready?.message).to.match(new RegExp(`^epoch ${progress.epoch}/30, validation accuracy `));
      await kube.delete(Resources.trainingRun, ns, 'slow');
    });

    it('kennel.dev/stop on a running run deletes its Job and ends the run Failed/Stopped with the why', async () => {
      await kube.create(Resources.trainingRun, trainingRun(ns, 'stopme', { model: 'stopme', dataset: { uri: 'file:///data/slow/acc-0.9/' }, hyperparameters: { epochs: 30 } }));
      const running = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'stopme', (o) => o.status?.phase === 'Running', 'run stopme running', 40_000);
      const jobName = running.status?.jobName as string;
      const t0 = Date.now();
      await kube.request({ method: 'PATCH', path: `/apis/kennel.dev/v1alpha1/namespaces/${ns}/trainingruns/stopme`, body: { metadata: { annotations: { 'kennel.dev/stop': 'no longer needed' } } }, contentType: 'application/merge-patch+json' });
      const stopped = await waitForStatus<Obj>(kube, Resources.trainingRun, ns, 'stopme', (o) => o.status?.phase === 'Failed', 'run stopme stopped', 30_000);
      expect(stopped.status?.failure).to.deep.equal({ reason: 'Stopped', message: 'no longer needed' });
      expect(ready(stopped)).to.deep.include({ status: 'False', reason: 'Stopped' });
      await waitFor(async () => ((await list(kube, Resources.job, ns)).some((j) => j.metadata?.name === jobName) ? undefined : true), { timeoutMs: 30_000, what: 'the stopped run\'s Job deleted' });
      console.log(`      run stopped and its Job gone ${Date.now() - t0} ms after the annotation`);
      await kube.delete(Resources.trainingRun, ns, 'stopme');
    });

    it('rejects invalid objects at admission with their message', async () => {
      const bad = async (spec: Record<string, unknown>) => {
        try {
          await kube.create(Resources.trainingRun, trainingRun(ns, 'bad', spec));
        } catch (err) {
          expect(err).to.be.instanceOf(KubeApiError);
          return (err as KubeApiError).message;
        }
        throw new Error('the API server accepted an invalid TrainingRun');
      };
      expect(await bad({ model: 'm', dataset: { uri: 'http://x/' } })).to.include('dataset.uri must start with gs:// or file://');
      expect(await bad({ model: 'm', dataset: { uri: 'gs://b/d' }, split: { train: 0.5, validation: 0.1, test: 0.1 } })).to.include('split fractions must sum to 1');
      expect(await bad({ model: 'm', dataset: { uri: 'gs://b/d' }, hyperparameters: { epochs: -1 } })).to.match(/epochs/);
    });
  });

  describe('a TrainingSweep with median stopping (stand-in trainer, 1 s progress polls)', () => {
    const mns = 'median';
    let op: RunningOperator | undefined;
    before(async () => {
      await createNamespace(kube, mns);
      op = await startInProcess(bed, { namespaces: [mns], progressPollSeconds: 1 });
    });
    after(async () => op?.stop());

    it('stops the clearly worse of 3 trials after minEpochs: its Job goes, the others finish and the best wins', async () => {
      const t0 = Date.now();
      // val-lr: each trial's validation accuracy after every epoch is its learning rate × 100 (0.9, 0.8, 0.3)
      await kube.create(Resources.trainingSweep, {
        apiVersion: 'kennel.dev/v1alpha1',
        kind: 'TrainingSweep',
        metadata: { name: 'median', namespace: mns },
        spec: {
          template: { model: 'median', dataset: { uri: 'file:///data/slow/val-lr/' }, architecture: 'simple-cnn', hyperparameters: { epochs: 6, imageSize: 32 }, evaluation: { minAccuracy: 0.5 } },
          search: { algorithm: 'Grid', parameters: { learningRate: { values: [0.009, 0.008, 0.003] } } },
          parallelism: 3,
          objective: { metric: 'accuracy' },
          earlyStopping: { algorithm: 'Median', minEpochs: 2, minTrials: 2 },
        },
      });
      const done = await waitForStatus<Obj & { status?: TrainingSweepStatus }>(kube, Resources.trainingSweep, mns, 'median', (o) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', 'sweep median to finish', 60_000);
      const status = done.status as TrainingSweepStatus;
      const rows = status.leaderboard ?? [];
      console.log(`      sweep with median stopping took ${Date.now() - t0} ms; trial 2: ${JSON.stringify(rows[2]?.stopped)}`);
      expect(status).to.deep.include({ phase: 'Succeeded', stopped: 1, failed: 0, summary: '3/3', earlyStopping: 'Median (minEpochs 2, minTrials 2)' });
      expect(status.best?.trial).to.equal(0);
      expect(rows.map((r) => r.phase)).to.deep.equal(['Succeeded', 'Succeeded', 'Stopped']);
      const figures = rows[2]?.stopped;
      expect(figures).to.include({ bestValAccuracy: 0.3, median: 0.85, trials: 2 });
      expect(figures?.epoch).to.be.within(2, 5);
      const stoppedRun = await kube.get<KubeObject & { status?: { failure?: { reason: string; message: string }; jobName?: string } }>(Resources.trainingRun, mns, rows[2]?.trainingRun ?? '');
      expect(stoppedRun?.status?.failure?.reason).to.equal('Stopped');
      expect(stoppedRun?.status?.failure?.message).to.match(/^stopped early by TrainingSweep median \(median stopping\): best validation accuracy 0\.3 by epoch \d is below 0\.85/);
      const jobs = (await list(kube, Resources.job, mns)).map((j) => j.metadata?.name);
      expect(jobs).to.not.include(stoppedRun?.status?.jobName);
      expect(jobs).to.have.length(2);
      expect(await list(kube, Resources.modelVersion, mns)).to.have.length(2);
      const events = await list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(kube, Resources.event, mns);
      expect(events.some((e) => e.involvedObject?.name === 'median' && e.reason === 'TrialStopped' && /^trial 2: best validation accuracy 0\.3/.test(e.message ?? ''))).to.equal(true);
    });
  });

  describe('across an operator restart', () => {
    let proc: OperatorProcess | undefined;
    afterEach(async () => stopProcess(proc, 'SIGKILL'));

    it('a TrainingRun yields exactly one Job, also when the operator is killed mid-run and restarted', async () => {
      const env = { KENNEL_NAMESPACES: 'restart', KENNEL_LEASE_NAMESPACE: 'restart', KENNEL_LEADER_ELECT: 'false' };
      proc = spawnOperator(bed, env, 'operator-restart-1');
      await kube.create(Resources.trainingRun, trainingRun('restart', 'r1', { model: 'r', dataset: { uri: 'file:///data/slow/acc-0.9/' }, hyperparameters: { epochs: 4 } }));
      const running = await waitForStatus<Obj>(kube, Resources.trainingRun, 'restart', 'r1', (o) => o.status?.jobName !== undefined, 'job recorded', 60_000);
      await stopProcess(proc, 'SIGKILL');
      proc = spawnOperator(bed, env, 'operator-restart-2');
      const done = await waitForStatus<Obj>(kube, Resources.trainingRun, 'restart', 'r1', (o) => o.status?.phase === 'Succeeded', 'run r1 to succeed', 60_000);
      expect(done.status?.jobName).to.equal(running.status?.jobName);
      const jobs = await list(kube, Resources.job, 'restart');
      expect(jobs.map((j) => j.metadata?.name)).to.deep.equal([running.status?.jobName]);
      expect(await list(kube, Resources.modelVersion, 'restart')).to.have.length(1);
    });
  });
});

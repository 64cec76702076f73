import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startTestbed, type Testbed } from '../../../local-cluster/index.js';
import { createKubeClient, type KubeClient, type KubeObject } from '../../../src/operator/kube/client.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import type { TrainingSweepStatus } from '../../../src/shared/api/training-sweep.js';
import { writeStripesDataset } from '../../../scripts/demo/synthetic-dataset.js';
import { createNamespace, list, repoRoot, startInProcess, waitFor, waitForStatus, type Phased } from './helpers.js';

const CLI = path.join(repoRoot, 'dist/cli.js');
const NS = 'sweep';
const MODEL = 'stripes';

type Obj = KubeObject & Phased;
type Sweep = KubeObject & { status?: TrainingSweepStatus };
type Mv = Obj & { spec: { version: number; metrics: { accuracy: number } } };
type Isvc = Obj & { status?: { currentModelVersion?: string; history?: { modelVersion: string }[] } };

/**
 * A TrainingSweep of 4 trials, 2 at a time, on the test bed with the real `kennel train` and
 * `kennel serve` (dist/cli.js) on a tiny generated dataset (horizontal vs vertical stripes,
 * 32 px, simple-cnn, 1 or 3 epochs). Every trial passes its gate (minAccuracy 0), so only the
 * sweep's eligibility marks keep the InferenceService that follows the model from serving a
 * trial that is not the best: it must serve the winner, and nothing else, ever.
 */
describe('operator: TrainingSweep (test bed, real kennel train and serve)', function () {
  this.timeout(600_000);
  let dir: string;
  let bed: Testbed | undefined;
  let kube: KubeClient;
  let operator: RunningOperator | undefined;

  before(async function () {
    this.timeout(300_000);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (the test bed's node runs the built kennel)`);
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-sweep-it-'));
    await writeStripesDataset(path.join(dir, 'stripes'), { perClass: 40, size: 32 });
    bed = await startTestbed();
    kube = createKubeClient(bed.kubeConfig);
    await createNamespace(kube, NS);
    operator = await startInProcess(bed, { namespaces: [NS] });
  });
  after(async () => {
    await operator?.stop();
    kube?.close();
    await bed?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs 4 trials at most 2 at a time, ranks them, and the service that follows the model serves only the best', async () => {
    await kube.create(Resources.inferenceService, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: MODEL, namespace: NS },
      spec: { model: MODEL, replicas: 1, rollout: { strategy: 'Rolling', progressDeadlineSeconds: 180 } },
    });
    await kube.create(Resources.trainingSweep, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'TrainingSweep',
      metadata: { name: 'grid', namespace: NS },
      spec: {
        template: {
          model: MODEL,
          dataset: { uri: pathToFileURL(path.join(dir, 'stripes')).href },
          architecture: 'simple-cnn',
          hyperparameters: { imageSize: 32, batchSize: 16, epochs: 1 },
          evaluation: { minAccuracy: 0 },
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '2Gi' } },
        },
        // The likely best (0.003, 3 epochs) is trial 0: it finishes before the hopeless ones (1e-6), so
        // the winner is not simply the newest version.
        search: { algorithm: 'Grid', parameters: { learningRate: { values: [0.003, 0.000001] }, epochs: { values: [3, 1] } } },
        parallelism: 2,
        objective: { metric: 'accuracy' },
      },
    });

    // Watch the trials while they run: never more than 2 unfinished at once (waitFor retries on a
    // throw, so the most seen is kept and judged afterwards).
    const started = Date.now();
    let maxRunning = 0;
    const sweep = await waitFor(
      async () => {
        const runs = await list<Obj>(kube, Resources.trainingRun, NS, 'kennel.dev/training-sweep=grid');
        const running = runs.filter((r) => r.status?.phase !== 'Succeeded' && r.status?.phase !== 'Failed').length;
        maxRunning = Math.max(maxRunning, running);
        const s = await kube.get<Sweep>(Resources.trainingSweep, NS, 'grid');
        return s?.status?.phase === 'Succeeded' || s?.status?.phase === 'Failed' ? s : undefined;
      },
      { timeoutMs: 480_000, intervalMs: 500, what: 'sweep grid to succeed' },
    );
    console.log(`      sweep of 4 trials took ${Math.round((Date.now() - started) / 1000)} s`);
    expect(sweep.status?.phase, JSON.stringify(sweep.status)).to.equal('Succeeded');
    expect(maxRunning, 'at most 2 trials run at once, and 2 did').to.equal(2);

    const status = sweep.status as TrainingSweepStatus;
    expect(status).to.deep.include({ trials: 4, summary: '4/4', succeeded: 4, failed: 0, running: 0, objective: 'accuracy (Maximize)' });
    const board = status.leaderboard ?? [];
    board.forEach((r, i) => expect(r.trainingRun).to.match(new RegExp(`^grid-${i}-[0-9a-f]{8}$`)));
    expect(board.map((r) => r.parameters)).to.deep.equal([
      { learningRate: 0.003, epochs: 3 },
      { learningRate: 0.003, epochs: 1 },
      { learningRate: 0.000001, epochs: 3 },
      { learningRate: 0.000001, epochs: 1 },
    ]);
    // Every value is its ModelVersion's test accuracy; the best is the highest (ties: the lower trial).
    const versions = new Map<string, Mv>();
    for (const row of board) {
      const mv = await kube.get<Mv>(Resources.modelVersion, NS, row.modelVersion ?? '');
      if (!mv) throw new Error(`trial ${row.trial} has no ModelVersion`);
      versions.set(row.modelVersion ?? '', mv);
      expect(row.value).to.equal(mv.spec.metrics.accuracy);
    }
    const expected = [...board].sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || a.trial - b.trial)[0];
    console.log(`      leaderboard: ${board.map((r) => `${r.trainingRun} ${r.modelVersion} accuracy ${r.value}${r.best ? ' (best)' : ''}`).join('; ')}`);
    expect(status.best?.modelVersion).to.equal(expected?.modelVersion);
    expect(board.filter((r) => r.best).map((r) => r.trial)).to.deep.equal([expected?.trial]);
    const winner = status.best?.modelVersion ?? '';

    // Only the winner is eligible; the others are registered, passed their gate (so the gate alone
    // would have let the service serve them), and are marked not eligible.
    for (const [name, mv] of versions) {
      expect(mv.metadata?.labels?.['kennel.dev/training-sweep']).to.equal('grid');
      expect(mv.metadata?.annotations?.['kennel.dev/serving-eligible'], name).to.equal(name === winner ? 'true' : 'false');
      const gated = await waitForStatus<Obj>(kube, Resources.modelVersion, NS, name, (o) => o.status?.gate !== undefined, `the gate of ${name}`);
      expect((gated.status?.gate as { passed: boolean }).passed, name).to.equal(true);
    }
    const newest = [...versions.values()].sort((a, b) => b.spec.version - a.spec.version)[0]?.metadata?.name;
    console.log(`      winner ${winner}, newest version ${newest ?? '?'}`);

    // The service that follows the model serves the winner, and has never served anything else.
    const isvc = await waitForStatus<Isvc>(
      kube,
      Resources.inferenceService,
      NS,
      MODEL,
      (o) => o.status?.currentModelVersion === winner && o.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
      `the InferenceService to serve ${winner}`,
      180_000,
    );
    expect(isvc.status?.history?.map((h) => h.modelVersion)).to.deep.equal([winner]);
    const url = await (bed as Testbed).serviceUrl(NS, MODEL, 'http');
    const photo = await readFile(path.join(dir, 'stripes', 'vertical', 'vertical-0000.jpg'));
    const answer = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo });
    expect(answer.status).to.equal(200);
    const body = (await answer.json()) as { version: string; label: string };
    expect(body.version).to.equal(String(versions.get(winner)?.spec.version));

    const events = await list<KubeObject & { reason?: string; involvedObject?: { name?: string } }>(kube, Resources.event, NS);
    const reasons = events.filter((e) => e.involvedObject?.name === 'grid').map((e) => e.reason);
    expect(reasons).to.include.members(['TrialStarted', 'BestTrialSelected']);
  });
});

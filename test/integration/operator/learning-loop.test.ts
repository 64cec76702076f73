import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import sharp from 'sharp';
import type { Testbed } from '../../../local-cluster/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { Resources } from '../../../src/operator/kube/resources.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import type { LiveQuality, RetrainingStatus } from '../../../src/shared/api/inference-service.js';
import { createTinyArtifact } from '../serve/helpers.js';
import { createNamespace, list, startBed, startInProcess, waitFor, waitForStatus, type Phased } from './helpers.js';

type Isvc = KubeObject & Phased & { status?: Phased['status'] & { live?: LiveQuality; retraining?: RetrainingStatus; currentModelVersion?: string } };
type Pod = KubeObject & { status?: { podIP?: string; phase?: string } };
const distCli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const NS = 'learning';

/**
 * The operator's side of the learning loop against the real API server, with two real
 * `kennel serve` pods (from dist/) writing one prediction log: the serving pods get the log,
 * status.live sums what both pods saw (predictions, confidence, feedback) against the
 * ModelVersion's baseline, and the retraining policy starts one TrainingRun from its template
 * when live accuracy falls below its threshold — once, not again within minInterval. Training
 * itself is the operator tests' stand-in (fixtures/fake-kennel-cli.mjs).
 */
describe('operator: live quality and the retraining policy', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let kube: KubeClient;
  let operator: RunningOperator;
  let artifact: { uri: string; sha256: string; cleanup: () => Promise<void> };
  let logDir: string;

  before(async function () {
    this.timeout(240_000);
    if (!existsSync(distCli)) throw new Error(`${distCli} is missing: run \`npm run build\` first (the test bed's node runs the built \`kennel serve\`)`);
    const tiny = await createTinyArtifact();
    const sha256 = (JSON.parse(readFileSync(`${tiny.dir}/pets/v7/metadata.json`, 'utf8')) as { sha256: string }).sha256;
    artifact = { uri: tiny.uri, sha256, cleanup: tiny.cleanup };
    logDir = await mkdtemp(path.join(tmpdir(), 'kennel-loop-log-'));
    ({ bed, kube } = await startBed());
    await createNamespace(kube, NS);
    operator = await startInProcess(bed, { namespaces: [NS], liveIntervalSeconds: 2 });
  });
  after(async () => {
    await operator?.stop();
    kube?.close();
    await bed?.stop();
    await artifact?.cleanup();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  it('measures both pods\' predictions and feedback against the baseline, and retrains once when live accuracy is low', async () => {
    const log = pathToFileURL(logDir).href;
    await kube.create(Resources.modelVersion, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: 'pets-v1', namespace: NS },
      spec: {
        model: 'pets',
        version: 1,
        artifact: { uri: artifact.uri, format: 'tfjs-layers', sha256: artifact.sha256 },
        classes: ['cat', 'dog'],
        inputShape: [32, 32, 3],
        metrics: {
          accuracy: 0.9,
          precision: 0.9,
          recall: 0.9,
          f1: 0.9,
          testImages: 100,
          perClass: { cat: { precision: 0.9, recall: 0.9, f1: 0.9, support: 50 }, dog: { precision: 0.9, recall: 0.9, f1: 0.9, support: 50 } },
          confusionMatrix: [
            [45, 5],
            [5, 45],
          ],
          confidenceHistogram: [0, 0, 0, 0, 0, 10, 10, 20, 30, 30],
          meanConfidence: 0.8,
        },
        lineage: { dataset: { uri: 'file:///data/pets', digest: 'sha256:x' }, codeVersion: 'test' },
      },
    });
    await waitForStatus(kube, Resources.modelVersion, NS, 'pets-v1', (o) => o.status?.phase === 'Passed', 'pets-v1 to pass its gate');
    await kube.create(Resources.inferenceService, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: 'pets', namespace: NS },
      spec: {
        model: 'pets',
        replicas: 2,
        rollout: { strategy: 'Rolling', progressDeadlineSeconds: 150 },
        logging: { uri: log, imageSampleRate: 1 },
        retraining: {
          minAccuracy: 0.9,
          minFeedback: 12,
          window: '10m',
          minInterval: '1h',
          template: { model: 'pets', dataset: { sources: [{ uri: 'file:///data/acc-0.95/pets' }, { uri: log, type: 'PredictionLog' }] }, hyperparameters: { epochs: 2 } },
        },
      },
    });
    await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'pets', (o) => o.status?.phase === 'Ready', 'pets to be Ready', 180_000);
    const pods = (await list<Pod>(kube, Resources.pod, NS, 'kennel.dev/inference-service=pets')).filter((p) => p.status?.phase === 'Running' && p.status.podIP);
    expect(pods).to.have.length(2);
    const deployment = (await list<KubeObject & { spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } } }>(kube, Resources.deployment, NS, 'kennel.dev/inference-service=pets'))[0];
    expect(deployment?.spec?.template?.spec?.containers?.[0]?.args).to.include.members(['--prediction-log', log]);

    // 20 predictions spread over both pods; then 12 corrections, each sent to the *other* pod.
    const urls = pods.map((p) => `http://${p.status?.podIP}:8080`);
    const answers: { predictionId: string; label: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const image = await sharp(randomBytes(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } }).jpeg().toBuffer();
      const res = await fetch(`${urls[i % 2]}/predict`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/jpeg' } });
      expect(res.status).to.equal(200);
      answers.push((await res.json()) as { predictionId: string; label: string });
    }
    for (const [i, a] of answers.slice(0, 12).entries()) {
      const res = await fetch(`${urls[(i + 1) % 2]}/feedback`, { method: 'POST', body: JSON.stringify({ predictionId: a.predictionId, label: a.label === 'cat' ? 'dog' : 'cat' }), headers: { 'content-type': 'application/json' } });
      expect(res.status, await res.clone().text()).to.equal(200);
    }

    const isvc = await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'pets', (o) => (o.status?.live?.feedback ?? 0) >= 12 && (o.status?.live?.predictions ?? 0) >= 20, 'status.live to count both pods', 60_000);
    const live = isvc.status?.live as LiveQuality;
    // Both pods' predictions (plus their warm-ups' none: warm-up predictions are not counted) and feedback, summed.
    expect(live).to.deep.include({ modelVersion: 'pets-v1', predictions: 20, feedback: 12, accuracy: 0, baselineAccuracy: 0.9, baselineMeanConfidence: 0.8 });
    expect(live.confidenceHistogram?.reduce((a, b) => a + b, 0)).to.equal(20);
    expect(live.confidenceDrift).to.be.within(0, 1);

    const retrained = await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'pets', (o) => o.status?.retraining?.lastTrainingRun !== undefined, 'the retraining policy to start a run', 60_000);
    expect(retrained.status?.retraining).to.deep.include({ runs: 1, lastTrainingRun: 'pets-retrain-1' });
    const run = await kube.get<KubeObject & { spec?: { dataset?: unknown; model?: string } }>(Resources.trainingRun, NS, 'pets-retrain-1');
    expect(run?.spec?.model).to.equal('pets');
    expect(run?.spec?.dataset).to.deep.equal({ sources: [{ uri: 'file:///data/acc-0.95/pets' }, { uri: log, type: 'PredictionLog' }] });
    expect(run?.metadata?.ownerReferences?.[0]).to.deep.include({ kind: 'InferenceService', name: 'pets' });
    await waitFor(
      async () => {
        const events = await list<KubeObject & { reason?: string; involvedObject?: { name?: string } }>(kube, Resources.event, NS);
        return events.some((e) => e.reason === 'RetrainingStarted' && e.involvedObject?.name === 'pets') ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'a RetrainingStarted event' },
    );
    // Measured once an interval, not once a status write (which would feed itself): over 10 s at
    // a 2 s interval, a handful of reconciles of this service, not hundreds.
    const reconciles = async () => {
      const text = await operator.registry.metrics();
      return [...text.matchAll(/^kennel_operator_reconciles_total\{controller="inferenceservice",result="[a-z]+"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await reconciles();
    await new Promise((r) => setTimeout(r, 10_000));
    const during = (await reconciles()) - before;
    expect(during, 'reconciles of the InferenceService in 10 s').to.be.within(2, 20);
    // The run finishes (the stand-in trainer); accuracy stays low, but minInterval (1 h) holds the policy back.
    await waitForStatus(kube, Resources.trainingRun, NS, 'pets-retrain-1', (o) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', 'the retraining run to finish', 90_000);
    await new Promise((r) => setTimeout(r, 8_000));
    const runs = await list(kube, Resources.trainingRun, NS);
    expect(runs.map((r) => r.metadata?.name)).to.deep.equal(['pets-retrain-1']);
  });
});

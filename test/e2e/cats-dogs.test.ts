/**
 * The end-to-end proof (issue 7): from `kubectl apply` of a TrainingRun to answers on real photos,
 * and rollouts under a steady load, on the test bed (real etcd, kube-apiserver and
 * kube-controller-manager, fake-gcs-server, the local node agent running the pods from the built
 * CLI), with the operator running as a process from the built CLI.
 *
 * Each `it` is one named step; a failed step prints the Kennel objects, Events, the operator's
 * log and every pod's log, and the steps after it are skipped (they depend on it).
 *
 * Run: `npm run test:e2e`, or as the last part of `npm test` (needs `npm run testbed:build`,
 * Debian's `prometheus`, and ../shared/datasets/cats-dogs; builds dist/ first unless
 * KENNEL_E2E_SKIP_BUILD=1). See README.md beside this file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Storage as GcsClient } from '@google-cloud/storage';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import {
  choosePhotos,
  inferenceServiceFromExample,
  Kubectl,
  startOperatorProcess,
  startServiceProxy,
  startTestbed,
  testbedBin,
  trainingRunFromExample,
  uploadPhotos,
  waitFor,
  type Obj,
  type OperatorProcess,
  type PhotoSplit,
  type ServiceProxy,
  type Testbed,
} from '../../local-cluster/index.js';
import { DEFAULT_PROMETHEUS_BINARY, startPrometheus, type Prometheus } from '../harness/prometheus.js';
import type { PodLike, PodMonitoringLike } from '../harness/prometheus-config.js';
import { linkPhotos, photosPresent, PHOTOS_DIR } from './support/dataset.js';
import { collectDiagnostics } from './support/diagnostics.js';
import { startSteadyLoad, type SteadyLoad } from './support/load.js';
import { writeStripesDataset } from '../../scripts/demo/synthetic-dataset.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(REPO, 'dist', 'cli.js');
const NS = 'kennel-e2e';
const BUCKET = 'kennel-e2e';
const DATASET_URI = `gs://${BUCKET}/datasets/cats-dogs`;
/** The InferenceService's prediction log (logging.uri), every image stored. */
const LOG_URI = `gs://${BUCKET}/logs/cats-dogs`;
const CORRECTIONS_URI = `gs://${BUCKET}/datasets/corrections-1`;
/**
 * `cats-dogs` (default): real photos from ../shared. `stripes`: the demo's generated dataset
 * (horizontal vs vertical stripes), which a small CNN learns in seconds; it exercises the same
 * chain when the photos are absent or to tell a model-quality problem from a plumbing one.
 */
const DATASET = (process.env.KENNEL_E2E_DATASET ?? 'cats-dogs') as 'cats-dogs' | 'stripes';
const REAL = DATASET === 'cats-dogs';
const CLASSES = REAL ? ['cat', 'dog'] : ['horizontal', 'vertical'];
/**
 * Real photos: 1,000 per class (of 1,500), so that a short run generalises. Training is
 * deterministic (seeded). Model 1 is the from-scratch compact-cnn (64 px, 4 epochs: 0.716 test /
 * 0.81 held-out accuracy in earlier runs); model 3 is the default, MobileNetV2 pretrained and
 * fine-tuned (128 px, 2 epochs: 0.900 test accuracy), whose most probable class must be right on
 * MIN_DEFAULT_TOP_ACCURACY of the held-out photos through the Service, and its labelled answers
 * (not unsure) on MIN_DEFAULT_SURE_ACCURACY.
 */
const TRAIN_PER_CLASS = Number(process.env.KENNEL_E2E_PER_CLASS ?? (REAL ? 1000 : 200));
const HELD_OUT_PER_CLASS = REAL ? 50 : 30;
/**
 * Accuracy the first (from-scratch) model must reach on the held-out photos it answers with a
 * label through the Service (the InferenceService's minConfidence leaves the rest unsure): chance is 0.5.
 */
const MIN_HELD_OUT_ACCURACY = 0.65;
/** Accuracy the default (pretrained) model's most probable class must reach on the held-out photos, and its labelled (sure) answers. */
const MIN_DEFAULT_TOP_ACCURACY = REAL ? 0.85 : 0.95;
const MIN_DEFAULT_SURE_ACCURACY = REAL ? 0.9 : 0.95;
const PROGRESS_DEADLINE_SECONDS = 60;
const MIN = 60_000;

const hp = (epochs: number, imageSize: number, learningRate = 0.002): Record<string, unknown> => ({ epochs, imageSize, batchSize: 32, learningRate, earlyStoppingPatience: undefined });
/**
 * Real photos: the first model trains briefly at 64 px (about 1 min here); the "better" one trains
 * 2.5 times as long at the same size (about 2.5 min under the steady load), clearly ahead on the
 * same test split (it must beat the serving model to be rolled out: +0.05); the "worse" one
 * barely trains. A bigger image size costs more than it gains in these times (112 px for 16
 * epochs: 0.79, but 7.5 min under load).
 */
const hyper = REAL ? { first: hp(4, 64), worse: hp(1, 32, 0.0001), better: hp(2, 128, 0.0003) } : { first: hp(6, 32), worse: hp(1, 32, 0.0001), better: hp(2, 32, 0.0003) };
/** Models 1 and 2 train from scratch; model 3 is the default (the example's architecture, mobilenet-v2). */
const SCRATCH = 'compact-cnn';
const gate = (minAccuracy: number, margin: number): Record<string, unknown> => ({ minAccuracy, minF1: 0.5, minClassRecall: 0.3, mustBeatChampion: { margin } });

interface State {
  tmp: string;
  bed?: Testbed;
  kubectl?: Kubectl;
  operator?: OperatorProcess;
  photos?: PhotoSplit;
  heldOutDir: string;
  heldOutFiles: string[];
  proxy?: ServiceProxy;
  prometheus?: Prometheus;
  load?: SteadyLoad;
  mv1?: Obj;
  mv3?: Obj;
  brokenName?: string;
  deploymentsBefore?: string;
  /** The true class of each held-out photo. */
  classOf: Map<string, string>;
  manifest?: { examples: number; corrections: number; digest: string; perClass: Record<string, number> };
}

const s: State = { tmp: '', heldOutDir: '', heldOutFiles: [], classOf: new Map() };
let failedStep: string | undefined;

const k = (): Kubectl => {
  if (!s.kubectl) throw new Error('no test bed');
  return s.kubectl;
};
const isvcStatus = (o: Obj): Record<string, unknown> => o.status ?? {};
const history = (o: Obj): { modelVersion: string; reason: string; message: string; from: string; to?: string }[] =>
  (isvcStatus(o).history as { modelVersion: string; reason: string; message: string; from: string; to?: string }[] | undefined) ?? [];

async function waitRun(name: string, timeoutMs: number): Promise<Obj> {
  const runObj = await k().waitFor('trainingrun', name, (o) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', `TrainingRun ${name} to finish`, timeoutMs);
  expect(runObj.status?.phase, `TrainingRun ${name}: ${JSON.stringify(runObj.status?.conditions)}`).to.equal('Succeeded');
  return runObj;
}

async function modelVersionOf(runName: string): Promise<Obj> {
  const runObj = await k().get('trainingrun', runName);
  const mvName = runObj?.status?.modelVersion as string | undefined;
  expect(mvName, `TrainingRun ${runName} status.modelVersion`).to.be.a('string');
  return k().waitFor('modelversion', mvName as string, (o) => typeof o.status?.phase === 'string' && o.status.phase !== 'Evaluated', `ModelVersion ${mvName} to be judged by its gate`, MIN);
}

interface UrlReport {
  accuracy: number;
  accuracyWhenSure: number;
  topAccuracy: number;
  answered: number;
  unsure: number;
  total: number;
  failed: number;
  latencyMs: Record<string, number>;
}

/** `kennel evaluate --url` on the held-out photos through the Service proxy. */
async function evaluateThroughService(): Promise<UrlReport> {
  const out = await run(process.execPath, [CLI, 'evaluate', '--url', (s.proxy as ServiceProxy).url, '--data', s.heldOutDir, '--json', '--concurrency', '4'], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; code?: number }) => {
    throw new Error(`kennel evaluate --url exited ${err.code}: ${err.stdout ?? ''}${err.stderr ?? ''}`);
  });
  const report = JSON.parse(out.stdout) as UrlReport;
  console.log(`    held-out accuracy ${report.accuracy} (${report.unsure} unsure; ${report.accuracyWhenSure} of the labelled; most probable class right ${report.topAccuracy}) on ${report.total} photos, latency ms ${JSON.stringify(report.latencyMs)}`);
  return report;
}

const accuracyOf = (mv: Obj): number => ((mv.spec?.metrics as { accuracy?: number } | undefined)?.accuracy ?? NaN);

describe('e2e: cats vs dogs, from kubectl apply to answers, and rollouts under load', function () {
  this.timeout(15 * MIN);

  before(async function () {
    const missing: string[] = [];
    if (REAL && !photosPresent()) missing.push(`the shared photos (${PHOTOS_DIR}; or KENNEL_E2E_DATASET=stripes)`);
    for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl', 'fake-gcs-server'] as const) {
      try {
        testbedBin(b);
      } catch {
        missing.push(`the test bed's ${b} (npm run testbed:build)`);
      }
    }
    if (!existsSync(DEFAULT_PROMETHEUS_BINARY)) missing.push(`${DEFAULT_PROMETHEUS_BINARY} (apt-get install -y prometheus)`);
    if (missing.length > 0) {
      // CI sets KENNEL_E2E_REQUIRED=1: there a missing prerequisite is a failure, not a skip.
      if (process.env.KENNEL_E2E_REQUIRED === '1') throw new Error(`the e2e is required but needs ${missing.join(', ')}`);
      console.log(`    skipped: the e2e needs ${missing.join(', ')}`);
      this.skip();
    }
    s.tmp = await mkdtemp(path.join(tmpdir(), 'kennel-e2e-'));
    s.heldOutDir = path.join(s.tmp, 'held-out');
    if (!process.env.KENNEL_E2E_SKIP_BUILD) {
      const t = Date.now();
      await run('npm', ['run', 'build'], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
      console.log(`    built dist/ in ${Math.round((Date.now() - t) / 1000)}s`);
    }
    if (!existsSync(CLI)) throw new Error(`${CLI} missing after the build`);
  });

  beforeEach(function () {
    // KENNEL_E2E_CONTINUE=1 runs the later steps anyway (to see how far the chain gets).
    if (failedStep && !process.env.KENNEL_E2E_CONTINUE) {
      console.log(`    skipped: step "${failedStep}" failed`);
      this.skip();
    }
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    failedStep ??= this.currentTest.title;
    console.error(`\n##### step failed: ${this.currentTest.title} #####`);
    console.error(await collectDiagnostics({ bed: s.bed, kubectl: s.kubectl, namespace: NS, operatorLogPath: s.operator?.logPath }));
  });

  after(async () => {
    const stats = await s.load?.stop();
    if (stats) console.log(`    steady load over the whole run: ${JSON.stringify(stats)}`);
    await s.prometheus?.stop();
    await s.proxy?.stop();
    await s.operator?.stop();
    await s.bed?.stop();
    if (s.tmp) await rm(s.tmp, { recursive: true, force: true });
  });

  it('1. the test bed starts (etcd, kube-apiserver, controller manager, fake GCS, node agent)', async () => {
    s.bed = await startTestbed({ verbose: true, keepDir: Boolean(process.env.KENNEL_TESTBED_KEEP) });
    s.kubectl = new Kubectl(s.bed, NS, s.tmp);
    await k().run(['create', 'namespace', NS]);
    const nodes = JSON.parse(await k().run(['get', 'nodes', '-o', 'json'])) as { items: Obj[] };
    expect(nodes.items).to.have.length.greaterThan(0);
  });

  it('2. the operator runs against the test bed (built CLI, configured by environment)', async () => {
    const bed = s.bed as Testbed;
    s.operator = await startOperatorProcess({
      cliPath: CLI,
      logPath: path.join(bed.dir, 'operator.log'),
      env: {
        KUBECONFIG: bed.kubeconfigPath,
        KENNEL_NAMESPACES: NS,
        KENNEL_LEADER_ELECT: 'true',
        KENNEL_LEASE_NAMESPACE: NS,
        KENNEL_ARTIFACT_ROOT: `gs://${BUCKET}/kennel`,
        KENNEL_GCS_ENDPOINT: bed.gcsEndpoint,
        KENNEL_GATE_MIN_ACCURACY: '0.55',
        KENNEL_LIVE_INTERVAL_SECONDS: '5',
        KENNEL_LOG_LEVEL: 'debug',
      },
    });
  });

  it(`3. a subset of the ${DATASET} images (${TRAIN_PER_CLASS} per class) is uploaded to the GCS emulator; ${HELD_OUT_PER_CLASS} per class are held out`, async () => {
    const root = REAL ? PHOTOS_DIR : path.join(s.tmp, 'stripes');
    if (!REAL) await writeStripesDataset(root, { perClass: TRAIN_PER_CLASS + HELD_OUT_PER_CLASS, seed: 11 });
    s.photos = await choosePhotos(CLASSES, { train: TRAIN_PER_CLASS, heldOut: HELD_OUT_PER_CLASS }, root);
    const n = await uploadPhotos((s.bed as Testbed).gcsEndpoint, BUCKET, 'datasets/cats-dogs', s.photos.train);
    expect(n).to.equal(2 * TRAIN_PER_CLASS);
    await linkPhotos(s.heldOutDir, s.photos.heldOut);
    s.heldOutFiles = CLASSES.flatMap((c) => s.photos?.heldOut[c] ?? []);
    for (const c of CLASSES) for (const f of s.photos?.heldOut[c] ?? []) s.classOf.set(f, c);
  });

  it('4. kubectl apply -f of the example TrainingRun (fewer epochs) is accepted', async () => {
    const tr = trainingRunFromExample({ name: 'cats-dogs-1', namespace: NS, datasetUri: DATASET_URI, classes: CLASSES, architecture: SCRATCH, hyperparameters: hyper.first, evaluation: gate(0.55, 0) });
    const out = await k().apply(tr, 'training-run-1.yaml');
    expect(out).to.match(/trainingrun.kennel.dev\/cats-dogs-1 created/);
  });

  it('5. the Job trains through the node agent, with progress in status', async () => {
    const running = await k().waitFor('trainingrun', 'cats-dogs-1', (o) => typeof o.status?.jobName === 'string', 'TrainingRun cats-dogs-1 to have a Job', 2 * MIN);
    const jobName = running.status?.jobName as string;
    expect(await k().get('job', jobName), `Job ${jobName}`).to.not.equal(undefined);
    await k().waitFor('trainingrun', 'cats-dogs-1', (o) => o.status?.progress !== undefined || o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed', 'training progress in status', 5 * MIN);
    const done = await waitRun('cats-dogs-1', 6 * MIN);
    expect(done.status?.completionTime).to.be.a('string');
  });

  it('6. a ModelVersion appears with its metrics and passes its gate', async () => {
    s.mv1 = await modelVersionOf('cats-dogs-1');
    const acc = accuracyOf(s.mv1);
    console.log(`    model 1: test accuracy ${acc}`);
    expect(acc).to.be.within(0, 1);
    expect((s.mv1.spec?.artifact as { uri: string }).uri).to.match(/^gs:\/\/kennel-e2e\//);
    expect((s.mv1.status?.gate as { passed: boolean }).passed, JSON.stringify(s.mv1.status?.gate)).to.equal(true);
  });

  it('7. the InferenceService rolls it out, with a PodMonitoring', async () => {
    await k().apply(inferenceServiceFromExample({ namespace: NS, progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS, logging: { uri: LOG_URI, imageSampleRate: 1 } }), 'inference-service.yaml');
    const mv1 = s.mv1?.metadata.name as string;
    const isvc = await k().waitFor('inferenceservice', 'cats-dogs', (o) => o.status?.phase === 'Ready' && o.status.currentModelVersion === mv1, `InferenceService cats-dogs Ready on ${mv1}`, 5 * MIN);
    expect(isvcStatus(isvc).readyReplicas).to.equal(2);
    expect(history(isvc).map((h) => h.modelVersion)).to.deep.equal([mv1]);
    const pm = await k().get('podmonitoring', 'cats-dogs');
    expect(pm, 'PodMonitoring cats-dogs').to.not.equal(undefined);
    const sel = (pm?.spec?.selector as { matchLabels: Record<string, string> }).matchLabels;
    const pods = await k().list('pods', Object.entries(sel).map(([a, b]) => `${a}=${b}`).join(','));
    expect(pods.filter((p) => p.status?.phase === 'Running')).to.have.length(2);
  });

  it(`8. predictions on held-out photos through the Service beat chance by a wide margin (kennel evaluate --url, the most probable class right on ≥ ${MIN_HELD_OUT_ACCURACY})`, async () => {
    const bed = s.bed as Testbed;
    s.proxy = await startServiceProxy({ kubeConfig: bed.kubeConfig, namespace: NS, service: 'cats-dogs', port: 80 });
    const report = await evaluateThroughService();
    expect(report.total).to.equal(2 * HELD_OUT_PER_CLASS);
    expect(report.failed).to.equal(0);
    // Model 1 is the weak from-scratch baseline behind the example's minConfidence 0.8: most of its
    // answers are label null (measured: 89 of 100), so judge the class it finds most probable.
    expect(report.topAccuracy).to.be.at.least(MIN_HELD_OUT_ACCURACY);
  });

  it('9. a real Prometheus configured from the PodMonitoring scrapes the pods and returns the prediction counts', async () => {
    const bed = s.bed as Testbed;
    const pm = (await k().get('podmonitoring', 'cats-dogs')) as unknown as PodMonitoringLike;
    // Debian's Prometheus has no Kubernetes service discovery: the harness lists the pods and
    // keeps static targets in step with them, rendered from the PodMonitoring's selector and port.
    const core = bed.kubeConfig.makeApiClient(CoreV1Api);
    s.prometheus = await startPrometheus({
      podMonitorings: [pm],
      followPods: { list: async () => (await core.listNamespacedPod({ namespace: NS })).items as PodLike[], refreshMs: 1000 },
    });
    const samples = await s.prometheus.waitForQuery('sum(kennel_serve_predictions_total)', (x) => (x[0]?.value ?? 0) >= 2 * HELD_OUT_PER_CLASS, {
      timeoutMs: MIN,
      what: 'Prometheus to count the held-out predictions',
    });
    console.log(`    Prometheus: ${samples[0]?.value} predictions counted`);
    const byClass = await s.prometheus.query('sum by (class) (kennel_serve_predictions_total)');
    expect(byClass.map((x) => x.metric.class).sort()).to.deep.equal(CLASSES);
    const targets = await s.prometheus.targets();
    expect(targets.filter((t) => t.health === 'up')).to.have.length(2);
  });

  it('10. a steady load of predictions starts and is answered; one in two gets feedback (the photo\'s true class) through the Service', async () => {
    s.load = await startSteadyLoad({
      url: (s.proxy as ServiceProxy).url,
      photos: s.heldOutFiles,
      concurrency: 2,
      pauseMs: 100,
      feedback: { every: 2, labelOf: (photo) => s.classOf.get(photo) ?? '?' },
    });
    await new Promise((r) => setTimeout(r, 5_000));
    const st = s.load.stats();
    expect(st.ok, JSON.stringify(st)).to.be.greaterThan(5);
    expect(st.failed, JSON.stringify(st)).to.equal(0);
    expect(st.feedback.sent, JSON.stringify(st)).to.be.greaterThan(2);
    expect(st.feedback.accepted, JSON.stringify(st)).to.equal(st.feedback.sent);
    s.deploymentsBefore = JSON.stringify((await k().list('deployments')).map((d) => [d.metadata.name, d.metadata.generation]));
  });

  it('11. a second run whose model is worse is rejected, and nothing changes', async () => {
    await k().apply(trainingRunFromExample({ name: 'cats-dogs-2', namespace: NS, datasetUri: DATASET_URI, classes: CLASSES, architecture: SCRATCH, hyperparameters: hyper.worse, evaluation: gate(0.55, 0.01) }), 'training-run-2.yaml');
    await waitRun('cats-dogs-2', 5 * MIN);
    const mv2 = await modelVersionOf('cats-dogs-2');
    console.log(`    model 2: test accuracy ${accuracyOf(mv2)} (model 1: ${accuracyOf(s.mv1 as Obj)})`);
    expect(mv2.status?.phase, JSON.stringify(mv2.status?.gate)).to.equal('Rejected');
    expect((mv2.status?.gate as { passed: boolean; reasons: string[] }).passed).to.equal(false);
    await new Promise((r) => setTimeout(r, 10_000));
    const isvc = (await k().get('inferenceservice', 'cats-dogs')) as Obj;
    expect(isvcStatus(isvc).currentModelVersion).to.equal(s.mv1?.metadata.name);
    expect(isvcStatus(isvc).canary).to.equal(undefined);
    expect(JSON.stringify((await k().list('deployments')).map((d) => [d.metadata.name, d.metadata.generation]))).to.equal(s.deploymentsBefore);
    const st = s.load?.stats();
    expect(st?.failed, JSON.stringify(st)).to.equal(0);
  });

  it('12. a third run, the default pretrained model, is better and rolls out with zero failed requests', async () => {
    s.load?.reset();
    await k().apply(trainingRunFromExample({ name: 'cats-dogs-3', namespace: NS, datasetUri: DATASET_URI, classes: CLASSES, hyperparameters: hyper.better, evaluation: gate(0.55, 0) }), 'training-run-3.yaml');
    await waitRun('cats-dogs-3', 12 * MIN); // about 2-3 min expected on an idle machine (not yet measured in the e2e); 8 min ran out at load average 30
    s.mv3 = await modelVersionOf('cats-dogs-3');
    console.log(`    model 3: test accuracy ${accuracyOf(s.mv3)} (model 1: ${accuracyOf(s.mv1 as Obj)})`);
    expect((s.mv3.status?.gate as { passed: boolean }).passed, JSON.stringify(s.mv3.status?.gate)).to.equal(true);
    const mv3 = s.mv3.metadata.name;
    await k().waitFor('inferenceservice', 'cats-dogs', (o) => o.status?.phase === 'Ready' && o.status.currentModelVersion === mv3 && !o.status.canary, `InferenceService promoted to ${mv3}`, 5 * MIN);
    const st = s.load?.stats();
    console.log(`    load during the rollout: ${JSON.stringify(st)}`);
    expect(st?.failed, JSON.stringify(st)).to.equal(0);
    expect(Object.keys(st?.versions ?? {})).to.include(String((s.mv3.spec as { version: number }).version));
    expect(st?.feedback.accepted, JSON.stringify(st)).to.equal(st?.feedback.sent);
  });

  it(`13. the default model, trained briefly, answers held-out photos through the Service: the most probable class right on ≥ ${MIN_DEFAULT_TOP_ACCURACY}, its labelled answers right on ≥ ${MIN_DEFAULT_SURE_ACCURACY}`, async () => {
    const report = await evaluateThroughService();
    expect(report.failed).to.equal(0);
    // Model 3 trains 2 epochs at 128 px to keep the e2e short (bench:train measures the full default);
    // measured on 100 held-out photos: most probable class right 0.88, labelled answers right 0.945
    // (27 unsure below the example's minConfidence 0.8). Model 1 managed 0.81 and 0.73.
    expect(report.topAccuracy).to.be.at.least(MIN_DEFAULT_TOP_ACCURACY);
    expect(report.accuracyWhenSure).to.be.at.least(MIN_DEFAULT_SURE_ACCURACY);
  });

  it('14. feedback on version 1\'s predictions, sent after the rollout (so to version 3\'s pods), is accepted and counted for version 1', async () => {
    const v1 = String((s.mv1?.spec as { version: number }).version);
    const pending = (s.load?.answered() ?? []).filter((a) => a.version === v1 && !a.feedback).slice(0, 20);
    expect(pending.length, 'predictions of version 1 without feedback yet').to.be.greaterThan(5);
    for (const a of pending) {
      const label = s.classOf.get(a.photo) as string;
      const res = await fetch(`${(s.proxy as ServiceProxy).url}/feedback`, { method: 'POST', body: JSON.stringify({ predictionId: a.predictionId, label }), headers: { 'content-type': 'application/json' } });
      const body = (await res.json()) as { version?: string; correct?: boolean };
      expect(res.status, JSON.stringify(body)).to.equal(200);
      expect(body.version).to.equal(v1);
      expect(body.correct).to.equal(a.top === label);
      a.feedback = { label, version: body.version as string };
    }
  });

  it('15. a serving pod is killed (kubectl delete pod) under load: no request and no feedback fails, and a new pod takes its place', async () => {
    s.load?.reset();
    const mv3 = s.mv3?.metadata.name as string;
    const pods = (await k().list('pods', `kennel.dev/model-version=${mv3}`)).filter((p) => p.status?.phase === 'Running');
    expect(pods.length).to.equal(2);
    const victim = pods[0]?.metadata.name as string;
    await k().run(['delete', 'pod', '-n', NS, victim, '--wait=true']);
    await k().waitFor('inferenceservice', 'cats-dogs', (o) => o.status?.readyReplicas === 2 && o.status?.phase === 'Ready', 'two ready replicas again', 3 * MIN);
    await new Promise((r) => setTimeout(r, 5_000));
    const st = s.load?.stats();
    console.log(`    load while a pod was killed and replaced: ${JSON.stringify(st)}`);
    expect(st?.failed, JSON.stringify(st)).to.equal(0);
    expect(st?.feedback.accepted, JSON.stringify(st)).to.equal(st?.feedback.sent);
    expect(st?.feedback.sent, JSON.stringify(st)).to.be.greaterThan(0);
  });

  it('16. a version whose artifact is broken never becomes ready, is rolled back, and the service keeps answering', async () => {
    // Count only this scenario: wait until the pods of the version promoted away from are gone.
    await waitFor(async () => ((await k().list('pods', `kennel.dev/model-version=${s.mv1?.metadata.name}`)).length === 0 ? true : undefined), {
      timeoutMs: 2 * MIN,
      what: `the pods of ${s.mv1?.metadata.name} to be gone`,
    });
    s.load?.reset();
    const mv3 = s.mv3 as Obj;
    const spec = mv3.spec as { version: number; artifact: { uri: string; format: string; sha256: string }; metrics: { accuracy: number }; lineage: Record<string, unknown> };
    // The same files as version 3 under a new prefix, with the weights corrupted: the recorded
    // sha256 no longer matches, so `kennel serve` refuses to load it and is never ready.
    const gcs = new GcsClient({ apiEndpoint: (s.bed as Testbed).gcsEndpoint, projectId: 'kennel-e2e' });
    const src = spec.artifact.uri.replace(`gs://${BUCKET}/`, '');
    const dst = 'imported/cats-dogs-broken';
    const [files] = await gcs.bucket(BUCKET).getFiles({ prefix: `${src}/` });
    expect(files.map((f) => path.posix.basename(f.name))).to.include('weights.bin');
    for (const f of files) {
      const [data] = await f.download();
      if (path.posix.basename(f.name) === 'weights.bin') for (let i = 0; i < data.length; i += 97) data[i] = (data[i] as number) ^ 0xff;
      await gcs.bucket(BUCKET).file(`${dst}/${f.name.slice(src.length + 1)}`).save(data, { resumable: false });
    }
    const versions = (await k().list('modelversions')).map((m) => (m.spec as { version: number }).version);
    s.brokenName = 'cats-dogs-imported-broken';
    await k().apply(
      {
        apiVersion: 'kennel.dev/v1alpha1',
        kind: 'ModelVersion',
        metadata: { name: s.brokenName, namespace: NS },
        spec: {
          ...spec,
          version: Math.max(...versions) + 1,
          artifact: { ...spec.artifact, uri: `gs://${BUCKET}/${dst}` },
          metrics: { ...spec.metrics, accuracy: Math.min(1, spec.metrics.accuracy + 0.02) },
          lineage: { dataset: spec.lineage.dataset, codeVersion: spec.lineage.codeVersion },
        },
      },
      'model-version-broken.yaml',
    );
    const broken = s.brokenName;
    await k().waitFor('inferenceservice', 'cats-dogs', (o) => (o.status?.canary as { modelVersion?: string } | undefined)?.modelVersion === broken, `a rollout of ${broken} to start`, 2 * MIN);
    const isvc = await k().waitFor(
      'inferenceservice',
      'cats-dogs',
      (o) => ((o.status?.failedRollouts as { modelVersion: string }[] | undefined) ?? []).some((f) => f.modelVersion === broken) && !o.status?.canary,
      `the rollout of ${broken} to be rolled back`,
      PROGRESS_DEADLINE_SECONDS * 1000 + 3 * MIN,
    );
    expect(isvcStatus(isvc).currentModelVersion).to.equal(mv3.metadata.name);
    expect(isvc.status?.phase).to.equal('Ready');
    const st = s.load?.stats();
    console.log(`    load during the failed rollout: ${JSON.stringify(st)}`);
    expect(st?.failed, JSON.stringify(st)).to.equal(0);
    expect(Object.keys(st?.versions ?? {})).to.deep.equal([String(spec.version)]);
  });

  it('17. status history and Events tell the whole story', async () => {
    const isvc = (await k().get('inferenceservice', 'cats-dogs')) as Obj;
    const h = history(isvc).map((e) => [e.modelVersion, e.reason]);
    expect(h).to.deep.equal([
      [s.mv1?.metadata.name, 'Initial'],
      [s.mv3?.metadata.name, 'Promoted'],
      [s.brokenName, 'RolledBack'],
    ]);
    const events = await k().events();
    const reasonsOf = (kind: string, name: string): string[] => events.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name).map((e) => e.reason);
    console.log(`    events: ${JSON.stringify(events.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}`))}`);
    expect(reasonsOf('TrainingRun', 'cats-dogs-1').join(' ')).to.match(/Succeeded/);
    const mv2 = (await k().get('trainingrun', 'cats-dogs-2'))?.status?.modelVersion as string;
    expect(reasonsOf('ModelVersion', mv2).join(' ')).to.match(/GateFailed/);
    expect(reasonsOf('ModelVersion', s.mv3?.metadata.name ?? '').join(' ')).to.match(/GatePassed/);
    expect(reasonsOf('ModelVersion', s.mv3?.metadata.name ?? '').join(' ')).to.match(/Serving/);
    expect(reasonsOf('InferenceService', 'cats-dogs').join(' ')).to.match(/RolledBack/);
  });

  it('18. no acknowledged record is lost: every answered prediction and every accepted feedback is in the prediction log, nothing was dropped', async () => {
    const stats = await s.load?.stop();
    console.log(`    steady load over the whole run: ${JSON.stringify(stats)}`);
    // Live pods write their batches within 5 s (feedback within 1 s); pods that left wrote theirs at SIGTERM.
    await new Promise((r) => setTimeout(r, 8_000));
    const answered = s.load?.answered() ?? [];
    const acknowledged = answered.filter((a) => a.feedback);
    const gcs = new GcsClient({ apiEndpoint: (s.bed as Testbed).gcsEndpoint, projectId: 'kennel-e2e' });
    const read = async (stream: string): Promise<{ id: string; version: string; label: string }[]> => {
      const [files] = await gcs.bucket(BUCKET).getFiles({ prefix: `logs/cats-dogs/${stream}/` });
      const out: { id: string; version: string; label: string }[] = [];
      for (const f of files.filter((x) => x.name.endsWith('.jsonl'))) {
        const [data] = await f.download();
        for (const line of data.toString('utf8').split('\n').filter(Boolean)) out.push(JSON.parse(line) as { id: string; version: string; label: string });
      }
      return out;
    };
    const nonce = (predictionId: string): string => (JSON.parse(Buffer.from(predictionId.split('.')[1] as string, 'base64url').toString()) as { i: string }).i;
    const predictions = await read('predictions');
    const feedback = await read('feedback');
    const logged = new Set(predictions.map((p) => p.id));
    const loggedFeedback = new Set(feedback.map((f) => f.id));
    const missing = answered.filter((a) => !logged.has(nonce(a.predictionId)));
    const missingFeedback = acknowledged.filter((a) => !loggedFeedback.has(nonce(a.predictionId)));
    console.log(`    ${answered.length} predictions answered under load, ${predictions.length} prediction records (with kennel evaluate's); ${acknowledged.length} feedback acknowledged, ${feedback.length} feedback records`);
    expect(missing.length, `answered predictions missing from the log, e.g. ${JSON.stringify(missing.slice(0, 3))}`).to.equal(0);
    expect(missingFeedback.length, 'acknowledged feedback missing from the log').to.equal(0);
    expect(feedback.length).to.equal(acknowledged.length);
    const [images] = await gcs.bucket(BUCKET).getFiles({ prefix: 'logs/cats-dogs/images/' });
    expect(images.length, 'every held-out photo stored once (sample rate 1, content-addressed; kennel evaluate --url sent each)').to.equal(s.heldOutFiles.length);
    const dropped = await (s.prometheus as Prometheus).query('sum(kennel_serve_prediction_log_dropped_total)');
    expect(dropped[0]?.value ?? 0).to.equal(0);
  });

  it('19. live accuracy per version sums across replicas: Prometheus and status.live agree with the feedback acknowledged', async () => {
    const acknowledged = (s.load?.answered() ?? []).filter((a) => a.feedback);
    const expected: Record<string, { correct: number; total: number }> = {};
    for (const a of acknowledged) {
      const e = (expected[a.version] ??= { correct: 0, total: 0 });
      e.total++;
      if (a.feedback?.label === a.top) e.correct++;
    }
    // Per pod series, max over the run (a killed pod's last value counts), summed over pods.
    const query = 'sum by (version, outcome) (max_over_time(kennel_serve_feedback_total[1h]))';
    const samples = await (s.prometheus as Prometheus).waitForQuery(query, (x) => x.reduce((n, y) => n + (y.value ?? 0), 0) >= acknowledged.length, { timeoutMs: MIN, what: 'Prometheus to count every acknowledged feedback' });
    const seen: Record<string, { correct: number; total: number }> = {};
    for (const x of samples) {
      const e = (seen[x.metric.version as string] ??= { correct: 0, total: 0 });
      e.total += x.value ?? 0;
      if (x.metric.outcome === 'correct') e.correct += x.value ?? 0;
    }
    for (const v of Object.keys(seen)) if (seen[v]?.total === 0) delete seen[v];
    console.log(`    feedback by version: acknowledged ${JSON.stringify(expected)}, Prometheus ${JSON.stringify(seen)}`);
    expect(seen).to.deep.equal(expected);
    const isvc = await k().waitFor('inferenceservice', 'cats-dogs', (o) => ((o.status?.live as { feedback?: number } | undefined)?.feedback ?? 0) > 0, 'status.live to show feedback', MIN);
    const live = isvc.status?.live as { modelVersion: string; accuracy?: number; baselineAccuracy?: number; predictions: number; confidenceHistogram?: number[] };
    console.log(`    status.live: ${JSON.stringify(live)}`);
    expect(live.modelVersion).to.equal(s.mv3?.metadata.name);
    expect(live.accuracy).to.be.within(0, 1);
    expect(live.baselineAccuracy).to.equal(accuracyOf(s.mv3 as Obj));
  });

  it('20. kennel dataset build turns the log into a class-per-folder set of the photos people labelled', async () => {
    const bed = s.bed as Testbed;
    const out = await run(process.execPath, [CLI, 'dataset', 'build', '--log', LOG_URI, '--out', CORRECTIONS_URI, '--model', 'cats-dogs'], {
      env: { ...process.env, KENNEL_GCS_AUTH: 'emulator', KENNEL_GCS_ENDPOINT: bed.gcsEndpoint, KENNEL_LOG_LEVEL: 'warn' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout?: string; stderr?: string; code?: number }) => {
      throw new Error(`kennel dataset build exited ${err.code}: ${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    s.manifest = JSON.parse(out.stdout) as NonNullable<State['manifest']>;
    console.log(`    ${JSON.stringify(s.manifest)}`);
    const labelled = new Set((s.load?.answered() ?? []).filter((a) => a.feedback).map((a) => a.photo));
    expect(s.manifest.examples).to.equal(labelled.size);
    expect(Object.keys(s.manifest.perClass).sort()).to.deep.equal(CLASSES);
    const gcs = new GcsClient({ apiEndpoint: bed.gcsEndpoint, projectId: 'kennel-e2e' });
    const [files] = await gcs.bucket(BUCKET).getFiles({ prefix: 'datasets/corrections-1/' });
    expect(files.filter((f) => !f.name.endsWith('manifest.json'))).to.have.length(labelled.size);
  });

  it('21. a TrainingRun on the base set plus the corrections trains, and its ModelVersion records both sources with their digests', async () => {
    const tr = trainingRunFromExample({ name: 'cats-dogs-4', namespace: NS, datasetUri: DATASET_URI, classes: CLASSES, architecture: SCRATCH, hyperparameters: hyper.first, evaluation: gate(0.55, 0) });
    (tr.spec as { dataset: unknown }).dataset = { sources: [{ uri: DATASET_URI }, { uri: CORRECTIONS_URI }], classes: CLASSES };
    await k().apply(tr, 'training-run-4.yaml');
    await waitRun('cats-dogs-4', 6 * MIN);
    const mv4 = await modelVersionOf('cats-dogs-4');
    const lineage = (mv4.spec as { lineage: { dataset: { sources?: { uri: string; type: string; digest: string; images: number }[]; digest: string } } }).lineage;
    console.log(`    model 4 (base + corrections): test accuracy ${accuracyOf(mv4)}; lineage ${JSON.stringify(lineage.dataset)}`);
    expect(lineage.dataset.sources?.map((x) => [x.uri, x.type])).to.deep.equal([
      [DATASET_URI, 'ClassFolders'],
      [CORRECTIONS_URI, 'ClassFolders'],
    ]);
    expect(lineage.dataset.sources?.[1]?.digest).to.equal(s.manifest?.digest);
    expect(lineage.dataset.sources?.[1]?.images).to.equal(s.manifest?.examples);
    expect(lineage.dataset.sources?.[0]?.digest).to.equal((s.mv1?.spec as { lineage: { dataset: { digest: string } } }).lineage.dataset.digest);
  });
});

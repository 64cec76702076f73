import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { run as train } from '../../../src/worker/train/command.js';
import { run as compare } from '../../../src/worker/compare/command.js';
import type { Comparison } from '../../../src/worker/compare/comparison.js';
import { captureStream } from './capture.js';
import { writeSyntheticDataset } from './synthetic-dataset.js';
import { tinyFit } from './tiny-fit.js';
import { Storage as GcsClient } from '@google-cloud/storage';
import { createFileStorage, storageFor } from '../../../src/shared/storage/index.js';
import { startFakeGcs } from '../../../local-cluster/fake-gcs.js';
import { collectPageErrors, launchChromium, saveScreenshot, unnamedControls } from '../../harness/chromium.js';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '../../../src/shared/api/common.js';
import { exampleTrainingRun } from '../../fixtures/api-examples.js';
import { startEtcd, type Etcd } from '../../../local-cluster/etcd.js';
import { installCrds, readCrds } from '../../../local-cluster/install-crds.js';
import { startKubeApiserver, type KubeApiserver } from '../../../local-cluster/kube-apiserver.js';
import { renderKubeconfig } from '../../../local-cluster/kubeconfig.js';
import { createPki } from '../../../local-cluster/pki.js';
import { testbedBin } from '../../../local-cluster/testbed-bin.js';
import { waitFor } from '../../../local-cluster/net-utils.js';

const execFileP = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(REPO, 'dist/cli.js');
const PLUGIN = path.join(REPO, 'examples/kubectl-plugin/kubectl-kennel');

const BASE_ARGS = { architecture: 'compact-cnn', imageSize: '32', batchSize: '8', backend: 'cpu', patience: '0', split: '0.7,0.1,0.2' };

interface MetricsJson {
  [field: string]: unknown;
  accuracy: number;
  f1: number;
  perClass: Record<string, { recall: number }>;
  confusionMatrix: number[][];
  training: { history: unknown[] };
}

/**
 * `kennel compare` on two models really trained by `kennel train` (the tiny network of
 * tiny-fit.ts on a generated two-class dataset, two different recipes), and its HTML page in a
 * real headless Chromium: the overlaid curves and both confusion matrices render, with names
 * for screen readers and no console errors.
 */
describe('kennel compare on two trained models', function () {
  this.timeout(300_000);
  let dir: string;
  let a: string;
  let b: string;
  let metrics: [MetricsJson, MetricsJson];

  const runCompare = async (args: string[], opts: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await compare(args, opts, { stdout: stdout.stream, stderr: stderr.stream, env });
    expect(code, stderr.text()).to.equal(0);
    return stdout.text();
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-compare-it-'));
    const data = path.join(dir, 'data');
    await writeSyntheticDataset(data, { perClass: 20, size: 32 });
    a = pathToFileURL(path.join(dir, 'models', 'a')).href;
    b = pathToFileURL(path.join(dir, 'models', 'b')).href;
    const recipes = [[a, { epochs: '2', learningRate: '0.01' }], [b, { epochs: '4', learningRate: '0.05' }]] as const;
    for (const [out, recipe] of recipes) {
      const stderr = captureStream();
      const code = await train({ ...BASE_ARGS, ...recipe, data, out }, { fit: tinyFit, stdout: captureStream().stream, stderr: stderr.stream, env: {} });
      expect(code, stderr.text()).to.equal(0);
    }
    const read = async (uri: string) => JSON.parse(await readFile(path.join(new URL(uri).pathname, 'metrics.json'), 'utf8')) as MetricsJson;
    metrics = [await read(a), await read(b)];
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints both models side by side with the deltas of the second against the first', async () => {
    const parsed = JSON.parse(await runCompare([a, b], { output: 'json' })) as Comparison;
    expect(parsed.models.map((m) => m.label)).to.deep.equal(['a', 'b']);
    const accuracy = parsed.metrics.find((r) => r.key === 'accuracy');
    expect(accuracy?.values).to.deep.equal([metrics[0].accuracy, metrics[1].accuracy]);
    expect(accuracy?.deltas[1]).to.be.closeTo(metrics[1].accuracy - metrics[0].accuracy, 1e-12);
    expect(parsed.metrics.find((r) => r.key === 'ece')?.values.every((v) => typeof v === 'number')).to.equal(true);
    const dark = parsed.perClass.find((k) => k.className === 'dark');
    expect(dark?.recall.values).to.deep.equal([metrics[0].perClass.dark?.recall, metrics[1].perClass.dark?.recall]);
    expect(parsed.hyperparameters.find((h) => h.key === 'epochs')).to.deep.include({ values: [2, 4], differs: true });
    expect(parsed.hyperparameters.find((h) => h.key === 'imageSize')).to.deep.include({ values: [32, 32], differs: false });
    expect(parsed.lineage.find((l) => l.key === 'datasetDigest')?.differs).to.equal(false);
    expect(parsed.models.map((m) => m.curves?.length)).to.deep.equal([2, 4]);
    expect(parsed.notes).to.deep.equal([]);

    const text = await runCompare([a, b], {});
    expect(text).to.match(new RegExp(`accuracy\\s+${(metrics[0].accuracy * 100).toFixed(1)}%\\s+${(metrics[1].accuracy * 100).toFixed(1)}% \\([+−±]`));
    expect(text).to.match(/\* epochs\s+2\s+4/);
  });

  it('reads gs:// artifacts and writes the page to gs:// (fake-gcs-server), with the same figures as from file://', async () => {
    const gcs = await startFakeGcs();
    try {
      await new GcsClient({ apiEndpoint: gcs.endpoint, projectId: 'test' }).createBucket('kennel-compare');
      const env = { KENNEL_GCS_ENDPOINT: gcs.endpoint };
      const local = createFileStorage();
      const remote = storageFor('gs://kennel-compare', { env });
      for (const e of await local.list(new URL(b).pathname)) await remote.write(`gs://kennel-compare/models/b/${e.name}`, await local.read(e.uri));
      const page = 'gs://kennel-compare/pages/compare.html';
      const viaGcs = JSON.parse(await runCompare([a, 'gs://kennel-compare/models/b'], { output: 'json', html: page }, env)) as Comparison;
      const viaFiles = JSON.parse(await runCompare([a, b], { output: 'json' })) as Comparison;
      expect(viaGcs.models.map((m) => m.uri)).to.deep.equal([a, 'gs://kennel-compare/models/b']);
      expect(viaGcs.metrics).to.deep.equal(viaFiles.metrics);
      expect(viaGcs.perClass).to.deep.equal(viaFiles.perClass);
      expect((await remote.read(page)).toString('utf8').match(/<figure class="confusion"/g)).to.have.length(2);

      const stderr = captureStream();
      expect(await compare([a, 'gs://kennel-compare/models/none'], {}, { stdout: captureStream().stream, stderr: stderr.stream, env })).to.equal(1);
      expect(stderr.text()).to.include('no model artifact at gs://kennel-compare/models/none (metadata.json not found)');
    } finally {
      await gcs.stop();
    }
  });

  describe('the HTML comparison page in a real Chromium', () => {
    let browser: Browser;
    before(async function () {
      browser = await launchChromium(this);
    });
    after(async () => {
      await browser?.close();
    });

    it('overlays both models\' curves and shows both confusion matrices, with no console errors', async () => {
      const html = path.join(dir, 'compare.html');
      await runCompare([a, b], { html });
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors = collectPageErrors(page);
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      await page.goto(pathToFileURL(html).href);

      // Curves: per model, a validation and a training line in each panel (loss and accuracy).
      for (const label of ['a', 'b']) {
        for (const series of ['validation', 'train']) {
          const lines = page.locator(`#curves polyline[data-model="${label}"][data-series="${series}"]`);
          expect(await lines.count(), `${label} ${series}`).to.equal(2);
          const box = await lines.first().boundingBox();
          expect(box?.width, `${label} ${series} is drawn`).to.be.greaterThan(50);
        }
      }
      // Model b trained twice as many epochs: its line spans the whole axis, a's half of it.
      const width = async (label: string) => (await page.locator(`#curves polyline[data-model="${label}"][data-series="validation"]`).first().boundingBox())?.width ?? 0;
      expect(await width('a')).to.be.lessThan((await width('b')) * 0.5);

      // Confusion matrices side by side, each cell labelled with the count from metrics.json.
      const figures = page.locator('#confusion figure.confusion');
      expect(await figures.count()).to.equal(2);
      const boxes = await Promise.all([0, 1].map((i) => figures.nth(i).boundingBox()));
      expect(boxes[1]?.y, 'side by side on a wide screen').to.be.closeTo(boxes[0]?.y ?? -1, 2);
      for (const [i, label] of ['a', 'b'].entries()) {
        const svg = page.getByRole('img', { name: `Confusion matrix of ${label} on its test split` });
        expect(await svg.count()).to.equal(1);
        const counts = await figures.nth(i).locator('svg text').allTextContents();
        for (const row of metrics[i]?.confusionMatrix ?? []) for (const c of row) expect(counts).to.include(String(c));
      }
      expect(await page.getByRole('img', { name: /^Training curves of a, b/ }).count()).to.equal(1);

      const accuracyCells = await page.locator('#metrics tr[data-metric="accuracy"] td').allTextContents();
      expect(accuracyCells[0]).to.equal(`${(metrics[0].accuracy * 100).toFixed(1)}%`);
      expect(accuracyCells[1]).to.match(/^\d+\.\d% [+−±]\d+\.\d pp$/);
      expect(await page.locator('#hyperparameters tr.differs th').allTextContents()).to.include.members(['epochs', 'learningRate']);

      await saveScreenshot(page, 'compare-page');
      expect(await unnamedControls(page)).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
      expect(requests, 'the page is self-contained').to.deep.equal([]);
      await page.close();
    });
  });

  /**
   * `kubectl kennel compare` (examples/kubectl-plugin) against a real kube-apiserver with Kennel's
   * CRDs (etcd and the API server only: nothing reconciles): three ModelVersions registering the
   * two trained artifacts and one whose artifact is gone, the plugin calling the built kennel.
   */
  describe('kubectl kennel compare on ModelVersions in a real API server', () => {
    const ns = 'compare';
    let etcd: Etcd | undefined;
    let apiserver: KubeApiserver | undefined;
    let env: NodeJS.ProcessEnv;

    const kubectl = (args: string[]) => execFileP(testbedBin('kubectl'), args, { env });
    const plugin = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(PLUGIN, ['compare', ...args, '-n', ns], { env, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
      });

    const modelVersion = async (name: string, version: number, uri: string, from: string, run: string) => {
      const metadata = JSON.parse(await readFile(path.join(new URL(from).pathname, 'metadata.json'), 'utf8')) as { sha256: string; classes: string[]; inputShape: number[]; dataset: { uri: string; digest: string }; codeVersion: string; backend: string };
      const m = JSON.parse(await readFile(path.join(new URL(from).pathname, 'metrics.json'), 'utf8')) as MetricsJson;
      const pick = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'testImages', 'perClass', 'confusionMatrix', 'confidenceHistogram', 'meanConfidence', 'expectedCalibrationError'];
      return {
        apiVersion: API_VERSION, kind: 'ModelVersion', metadata: { name, namespace: ns },
        spec: {
          model: 'pets', version, artifact: { uri, format: 'tfjs-layers', sha256: metadata.sha256 }, classes: metadata.classes, inputShape: metadata.inputShape,
          metrics: Object.fromEntries(pick.filter((k) => m[k] !== undefined).map((k) => [k, m[k]])),
          lineage: { trainingRun: run, dataset: metadata.dataset, codeVersion: metadata.codeVersion, backend: metadata.backend, workerImage: 'kennel-worker:test' },
        },
      };
    };

    before(async function () {
      this.timeout(180_000);
      if (!existsSync(CLI)) throw new Error(`${CLI} is absent: run npm run build first (the plugin runs the built kennel)`);
      const kdir = path.join(dir, 'kube');
      await mkdir(path.join(kdir, 'pki'), { recursive: true });
      const pki = await createPki({ dir: path.join(kdir, 'pki'), ips: ['127.0.0.1', '10.96.0.1'], dnsNames: ['localhost', 'kubernetes.default.svc'] });
      etcd = await startEtcd({ dir: kdir });
      apiserver = await startKubeApiserver({ dir: kdir, pki, etcdEndpoint: etcd.endpoint, host: '127.0.0.1' });
      const kubeconfig = renderKubeconfig({ server: apiserver.server, caCert: pki.caCert, credentials: { clientCert: pki.adminCert, clientKey: pki.adminKey } });
      await writeFile(path.join(kdir, 'kubeconfig'), kubeconfig);
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      await installCrds(kc, readCrds([path.join(REPO, 'crds')]));
      env = { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: path.join(kdir, 'kubeconfig'), KUBECTL: testbedBin('kubectl'), KENNEL: `${process.execPath} ${CLI}` };
      await kubectl(['create', 'namespace', ns]);
      const objects = [
        await modelVersion('pets-v1', 1, a, a, 'pets-run-1'),
        await modelVersion('pets-v2', 2, b, b, 'pets-run-2'),
        await modelVersion('pets-v3', 3, pathToFileURL(path.join(dir, 'models', 'deleted')).href, b, 'pets-run-3'),
      ];
      const run3 = exampleTrainingRun('pets-run-3');
      run3.metadata.namespace = ns;
      run3.spec.model = 'pets';
      run3.spec.hyperparameters = { epochs: 9, learningRate: 0.02, augmentation: { horizontalFlip: false } };
      await writeFile(path.join(kdir, 'objects.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...objects, run3] }));
      await waitFor(() => kubectl(['apply', '-f', path.join(kdir, 'objects.json')]).then(() => true), { timeoutMs: 30_000, what: 'the CRDs to serve' });
      const status = { status: { phase: 'Passed', gate: { passed: true, policy: { minAccuracy: 0.4 }, reasons: ['accuracy ok'], evaluatedAt: '2026-12-03T08:00:00Z' } } };
      await kubectl(['patch', 'modelversion', 'pets-v1', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    });
    after(async () => {
      await apiserver?.process.stop(5_000);
      await etcd?.process.stop(5_000);
    });

    it('compares them in the order named, with hyperparameters from the artifacts or, for a lost artifact, its TrainingRun', async () => {
      const res = await plugin(['pets-v2', 'pets-v1', 'pets-v3', '--output', 'json']);
      expect(res.code, res.stderr).to.equal(0);
      const c = JSON.parse(res.stdout) as Comparison;
      expect(c.models.map((m) => m.label)).to.deep.equal(['pets-v2', 'pets-v1', 'pets-v3']);
      expect(c.models.map((m) => m.modelVersion?.version)).to.deep.equal([2, 1, 3]);
      expect(c.models[1]?.modelVersion).to.deep.include({ namespace: ns, model: 'pets', phase: 'Passed', gatePassed: true });
      const accuracy = c.metrics.find((r) => r.key === 'accuracy');
      expect(accuracy?.values).to.deep.equal([metrics[1].accuracy, metrics[0].accuracy, metrics[1].accuracy]);
      expect(accuracy?.deltas[1]).to.be.closeTo(metrics[0].accuracy - metrics[1].accuracy, 1e-12);
      expect(c.hyperparameters.find((h) => h.key === 'epochs')).to.deep.include({ values: [4, 2, 9], differs: true });
      expect(c.hyperparameters.find((h) => h.key === 'horizontalFlip')?.values).to.deep.equal([true, true, false]);
      expect(c.lineage.find((l) => l.key === 'trainingRun')?.values).to.deep.equal(['pets-run-2', 'pets-run-1', 'pets-run-3']);
      expect(c.lineage.find((l) => l.key === 'workerImage')?.values).to.deep.equal(['kennel-worker:test', 'kennel-worker:test', 'kennel-worker:test']);
      expect(c.models.map((m) => m.curves?.length)).to.deep.equal([4, 2, undefined]);
      const notes = c.notes.join('\n');
      expect(notes).to.match(/pets-v3: artifact file:\/\/.*\/models\/deleted not read \(no model artifact at /);
      expect(notes).to.include('pets-v3: hyperparameters as TrainingRun pets-run-3 asked for them');
    });

    it('writes the HTML page, and fails with kubectl\'s words for a ModelVersion that does not exist', async () => {
      const html = path.join(dir, 'model-versions.html');
      const res = await plugin(['pets-v1', 'pets-v2', '--html', html]);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout).to.match(/pets v1 Passed \(gate passed\)/).and.include(`comparison page written to ${html}`);
      expect((await readFile(html, 'utf8')).match(/<figure class="confusion"/g)).to.have.length(2);

      const missing = await plugin(['pets-v1', 'pets-v9']);
      expect(missing.code).to.not.equal(0);
      expect(missing.stderr).to.include('"pets-v9" not found');
      const one = await plugin(['pets-v1']);
      expect(one.code).to.equal(2);
      expect(one.stderr).to.include('name at least two ModelVersions');
    });
  });
});

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { describeErrors, parseBatchPrediction, parseInferenceService, parseModelVersion, parseTrainingRun, parseTrainingSweep, type ParseResult } from '../../src/shared/api/parse.js';
import { helmTemplate } from './helm.js';
import { runArgoLua } from './lua.js';
import { repoRoot } from './paths.js';

/**
 * The examples people copy: every Kennel object in examples/ is valid by the API's own parsers
 * (the same rules as the CRDs' schemas and CEL), every path a GitOps object points at exists,
 * the Helm values in them pass the chart, and the Argo CD Lua scripts give the right verdicts.
 */

const examplesDir = join(repoRoot, 'examples');

type Doc = { file: string; object: { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> } };

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

async function allDocs(): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const file of await yamlFiles(examplesDir)) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      expect(doc.errors, `${file} parses`).to.deep.equal([]);
      const object = doc.toJS() as Doc['object'] | null;
      if (object) docs.push({ file: relative(repoRoot, file), object });
    }
  }
  return docs;
}

const parsers: Record<string, (v: unknown) => ParseResult<unknown>> = {
  TrainingRun: parseTrainingRun,
  ModelVersion: parseModelVersion,
  InferenceService: parseInferenceService,
  BatchPrediction: parseBatchPrediction,
  TrainingSweep: parseTrainingSweep,
};

function ofKind(docs: Doc[], kind: string): Doc[] {
  return docs.filter((d) => d.object.kind === kind);
}

/** Placeholders in the examples, replaced by values that satisfy the chart's schema. */
function fillPlaceholders<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('YOUR_BUCKET', 'my-bucket').replaceAll('YOUR_PROJECT', 'my-project')) as T;
}

describe('examples/', function () {
  this.timeout(60_000);
  let docs: Doc[];
  before(async function () {
    docs = await allDocs();
  });

  it('cats-vs-dogs has a TrainingRun and an InferenceService of the same model', function () {
    const run = ofKind(docs, 'TrainingRun').find((d) => d.file === 'examples/cats-vs-dogs/training-run.yaml');
    const isvc = ofKind(docs, 'InferenceService').find((d) => d.file === 'examples/cats-vs-dogs/inference-service.yaml');
    expect(run, 'training-run.yaml').to.not.equal(undefined);
    expect(isvc, 'inference-service.yaml').to.not.equal(undefined);
    expect(isvc?.object.spec?.model).to.equal(run?.object.spec?.model);
  });

  it('every kennel.dev object is valid by the API schemas and rules', function () {
    const kennel = docs.filter((d) => d.object.apiVersion?.startsWith('kennel.dev/'));
    expect(kennel.length).to.be.greaterThanOrEqual(2);
    for (const { file, object } of kennel) {
      expect(object.apiVersion, file).to.equal('kennel.dev/v1alpha1');
      const parser = parsers[object.kind ?? ''];
      expect(parser, `${file}: unknown kind ${object.kind}`).to.not.equal(undefined);
      // Placeholders (YOUR_BUCKET) are not valid bucket names: judge the object as a person would fill it in.
      const result = parser?.(fillPlaceholders(object));
      expect(result?.ok, `${file}: ${result && !result.ok ? describeErrors(result.errors) : ''}`).to.equal(true);
    }
  });

  it('the cats-vs-dogs kustomization lists files that exist', async function () {
    const kustomization = parse(await readFile(join(examplesDir, 'cats-vs-dogs/kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).to.have.length.greaterThan(0);
    for (const r of kustomization.resources) expect(existsSync(join(examplesDir, 'cats-vs-dogs', r)), r).to.equal(true);
  });

  describe('GitOps', function () {
    let chart: { name: string; version: string };
    before(async function () {
      chart = parse(await readFile(join(repoRoot, 'charts/kennel/Chart.yaml'), 'utf8')) as typeof chart;
    });

    it('Argo CD Applications point at paths that exist, or at this chart and version', function () {
      const apps = ofKind(docs, 'Application');
      expect(apps.length).to.be.greaterThanOrEqual(2);
      for (const { file, object } of apps) {
        const source = object.spec?.source as { path?: string; chart?: string; targetRevision?: string };
        if (source.chart !== undefined) {
          expect(source.chart, file).to.equal(chart.name);
          expect(source.targetRevision, file).to.equal(chart.version);
        } else {
          expect(existsSync(join(repoRoot, source.path ?? '/nonexistent')), `${file}: ${source.path}`).to.equal(true);
        }
      }
    });

    it('Flux has a GitRepository + Kustomization on a path that exists, and a HelmRelease of this chart', function () {
      expect(ofKind(docs, 'GitRepository')).to.have.length.greaterThanOrEqual(1);
      const kustomizations = docs.filter((d) => d.object.kind === 'Kustomization' && d.object.apiVersion?.startsWith('kustomize.toolkit.fluxcd.io/'));
      expect(kustomizations).to.have.length.greaterThanOrEqual(1);
      for (const { file, object } of kustomizations) {
        expect(existsSync(join(repoRoot, String(object.spec?.path))), `${file}: ${object.spec?.path}`).to.equal(true);
      }
      const [release] = ofKind(docs, 'HelmRelease');
      const spec = (release?.object.spec as { chart: { spec: { chart: string; version: string } } }).chart.spec;
      expect(spec).to.deep.include({ chart: chart.name, version: chart.version });
    });

    it('the Helm values in the Argo CD and Flux examples render with the chart', async function () {
      const argo = ofKind(docs, 'Application').find((d) => (d.object.spec?.source as { chart?: string }).chart !== undefined);
      const flux = ofKind(docs, 'HelmRelease')[0];
      const valueSets = [
        (argo?.object.spec?.source as { helm: { valuesObject: object } }).helm.valuesObject,
        (flux?.object.spec as { values: object }).values,
      ];
      for (const values of valueSets) {
        const objects = await helmTemplate(fillPlaceholders(values));
        const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'kennel-workload');
        expect(sa?.metadata.annotations?.['iam.gke.io/gcp-service-account']).to.equal('kennel-worker@my-project.iam.gserviceaccount.com');
        expect(objects.some((o) => o.kind === 'PodMonitoring')).to.equal(true);
      }
    });
  });

  describe('Argo CD health checks and actions (argocd-cm)', function () {
    let cm: Record<string, string>;
    before(async function () {
      cm = (parse(await readFile(join(examplesDir, 'argocd/argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> }).data;
    });

    const health = (kind: string, obj: object): { status: string; message: string } => {
      const script = cm[`resource.customizations.health.kennel.dev_${kind}`];
      if (!script) throw new Error(`no health check for ${kind}`);
      return runArgoLua(script, obj) as { status: string; message: string };
    };
    const ready = (status: 'True' | 'False', message: string) => [{ type: 'Ready', status, reason: 'Test', message }];

    it('TrainingRun: progress while it trains, Healthy when it succeeded, Degraded when it failed', function () {
      const meta = { name: 'r', generation: 2 };
      expect(health('TrainingRun', { metadata: meta })).to.include({ status: 'Progressing' });
      expect(health('TrainingRun', { metadata: meta, status: { observedGeneration: 1, phase: 'Succeeded' } })).to.include({
        status: 'Progressing',
      });
      const running = { metadata: meta, status: { observedGeneration: 2, phase: 'Running', progress: { epoch: 3, epochs: 10, summary: '3/10' } } };
      expect(health('TrainingRun', running)).to.deep.equal({ status: 'Progressing', message: 'Training: epoch 3 of 10' });
      const done = { metadata: meta, status: { observedGeneration: 2, phase: 'Succeeded', modelVersion: 'cats-dogs-v3', conditions: ready('True', 'ok') } };
      expect(health('TrainingRun', done)).to.deep.equal({ status: 'Healthy', message: 'Registered ModelVersion cats-dogs-v3' });
      const failed = { metadata: meta, status: { observedGeneration: 2, phase: 'Failed', conditions: ready('False', 'dataset not found') } };
      expect(health('TrainingRun', failed)).to.deep.equal({ status: 'Degraded', message: 'dataset not found' });
    });

    it('ModelVersion: Healthy when passed or serving, Degraded when rejected by the gate', function () {
      expect(health('ModelVersion', { metadata: { name: 'm' }, status: { phase: 'Passed' } })).to.include({ status: 'Healthy' });
      expect(health('ModelVersion', { metadata: { name: 'm' }, status: { phase: 'Serving' } })).to.include({ status: 'Healthy' });
      const rejected = { metadata: { name: 'm' }, status: { phase: 'Rejected', conditions: ready('False', 'accuracy 0.61 < 0.75') } };
      expect(health('ModelVersion', rejected)).to.deep.equal({ status: 'Degraded', message: 'accuracy 0.61 < 0.75' });
      expect(health('ModelVersion', { metadata: { name: 'm' }, status: { phase: 'Evaluated' } })).to.include({ status: 'Progressing' });
    });

    it('BatchPrediction: images done while it runs, Healthy with its counts when it succeeded, Degraded when it failed', function () {
      const meta = { name: 'b', generation: 1 };
      expect(health('BatchPrediction', { metadata: meta })).to.include({ status: 'Progressing' });
      const running = { metadata: meta, status: { observedGeneration: 1, phase: 'Running', shards: 3, progress: { summary: '120/300', shardsDone: 1 } } };
      expect(health('BatchPrediction', running)).to.deep.equal({ status: 'Progressing', message: 'Classifying: 120/300 images, 1 of 3 shards done' });
      const done = { metadata: meta, status: { observedGeneration: 1, phase: 'Succeeded', results: { images: 302, predicted: 300, failed: 2, summaryUri: 'gs://b/out/summary.json' }, conditions: ready('True', 'ok') } };
      expect(health('BatchPrediction', done)).to.deep.equal({ status: 'Healthy', message: 'Classified 300 of 302 images (2 unreadable): gs://b/out/summary.json' });
      const failed = { metadata: meta, status: { observedGeneration: 1, phase: 'Failed', conditions: ready('False', 'shard 1: no model artifact') } };
      expect(health('BatchPrediction', failed)).to.deep.equal({ status: 'Degraded', message: 'shard 1: no model artifact' });
      const stale = { metadata: { name: 'b', generation: 2 }, status: { observedGeneration: 1, phase: 'Succeeded' } };
      expect(health('BatchPrediction', stale)).to.include({ status: 'Progressing' });
    });

    it('TrainingSweep: trials finished while it runs, Healthy with its best trial when it succeeded, Degraded when it failed', function () {
      const meta = { name: 's', generation: 1 };
      expect(health('TrainingSweep', { metadata: meta })).to.include({ status: 'Progressing' });
      const running = { metadata: meta, status: { observedGeneration: 1, phase: 'Running', summary: '1/4', running: 2 } };
      expect(health('TrainingSweep', running)).to.deep.equal({ status: 'Progressing', message: 'Trials: 1/4 finished, 2 running' });
      const best = { trial: 3, trainingRun: 's-3', modelVersion: 'cats-dogs-v7', value: 0.93 };
      const done = { metadata: meta, status: { observedGeneration: 1, phase: 'Succeeded', trials: 4, objective: 'accuracy (Maximize)', best, conditions: ready('True', 'ok') } };
      expect(health('TrainingSweep', done)).to.deep.equal({ status: 'Healthy', message: 'Best of 4 trials: s-3 (accuracy (Maximize) 0.93), serving-eligible cats-dogs-v7' });
      const failed = { metadata: meta, status: { observedGeneration: 1, phase: 'Failed', conditions: ready('False', 'none of the 4 trials produced a ModelVersion with accuracy') } };
      expect(health('TrainingSweep', failed)).to.deep.equal({ status: 'Degraded', message: 'none of the 4 trials produced a ModelVersion with accuracy' });
      const stale = { metadata: { name: 's', generation: 2 }, status: { observedGeneration: 1, phase: 'Succeeded' } };
      expect(health('TrainingSweep', stale)).to.include({ status: 'Progressing' });
    });

    it('InferenceService: Healthy when Ready, Progressing during a canary, Degraded after a failed rollout', function () {
      const meta = { name: 's', generation: 1 };
      const ok = { metadata: meta, status: { observedGeneration: 1, phase: 'Ready', conditions: ready('True', 'serving cats-dogs-v2') } };
      expect(health('InferenceService', ok)).to.deep.equal({ status: 'Healthy', message: 'serving cats-dogs-v2' });
      const canary = {
        metadata: meta,
        status: { observedGeneration: 1, phase: 'Progressing', canary: { modelVersion: 'cats-dogs-v3', weight: 25 }, conditions: ready('False', 'x') },
      };
      expect(health('InferenceService', canary)).to.deep.equal({ status: 'Progressing', message: 'Canary cats-dogs-v3 at 25%' });
      const degraded = { metadata: meta, status: { observedGeneration: 1, phase: 'Degraded', conditions: ready('False', 'rolled back') } };
      expect(health('InferenceService', degraded)).to.deep.equal({ status: 'Degraded', message: 'rolled back' });
    });

    it('InferenceService actions: rollback pins the previous version, promote follows the model again', function () {
      const actions = parse(cm['resource.customizations.actions.kennel.dev_InferenceService'] ?? '') as {
        'discovery.lua': string;
        definitions: { name: string; 'action.lua': string }[];
      };
      const action = (name: string): string => actions.definitions.find((d) => d.name === name)?.['action.lua'] ?? '';
      const serving = {
        apiVersion: 'kennel.dev/v1alpha1',
        kind: 'InferenceService',
        metadata: { name: 's', annotations: { team: 'ml' } },
        spec: { model: 'cats-dogs', replicas: 2 },
        status: {
          currentModelVersion: 'cats-dogs-v3',
          history: [
            { modelVersion: 'cats-dogs-v1', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', reason: 'Initial', message: 'a' },
            { modelVersion: 'cats-dogs-v2', from: '2026-01-02T00:00:00Z', to: '2026-01-03T00:00:00Z', reason: 'Promoted', message: 'b' },
            { modelVersion: 'cats-dogs-v3', from: '2026-01-03T00:00:00Z', reason: 'Promoted', message: 'c' },
          ],
        },
      };
      expect(runArgoLua(actions['discovery.lua'], serving)).to.deep.equal({ rollback: { disabled: false }, promote: { disabled: true } });

      const rolledBack = runArgoLua(action('rollback'), serving) as typeof serving & { spec: { modelVersion?: string } };
      expect(rolledBack.spec).to.deep.equal({ modelVersion: 'cats-dogs-v2', replicas: 2 });
      expect(rolledBack.metadata.annotations).to.deep.equal({ team: 'ml', 'kennel.dev/followed-model': 'cats-dogs' });
      const check = parseInferenceService(rolledBack);
      expect(check.ok, `the rolled-back object is still valid: ${check.ok ? '' : describeErrors(check.errors)}`).to.equal(true);
      expect(runArgoLua(actions['discovery.lua'], rolledBack)).to.deep.include({ promote: { disabled: false } });

      const promoted = runArgoLua(action('promote'), rolledBack) as typeof serving;
      expect(promoted.spec).to.deep.equal({ model: 'cats-dogs', replicas: 2 });
      expect(promoted.metadata.annotations).to.deep.equal({ team: 'ml' });
      expect(parseInferenceService(promoted).ok).to.equal(true);

      const fresh = { metadata: { name: 's' }, spec: { model: 'cats-dogs' }, status: { currentModelVersion: 'cats-dogs-v1', history: [{ modelVersion: 'cats-dogs-v1' }] } };
      expect(runArgoLua(actions['discovery.lua'], fresh)).to.deep.equal({ rollback: { disabled: true }, promote: { disabled: true } });
    });
  });
});

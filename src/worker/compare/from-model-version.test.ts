import { expect } from 'chai';
import { compareModels } from './comparison.js';
import { modelFromModelVersion, parseKubeObjects, type ModelVersionObject } from './from-model-version.js';
import { metadataFixture, metricsFixture } from './test-support/fixtures.js';

function mv(name: string, version: number, accuracy: number): unknown {
  return {
    apiVersion: 'kennel.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name, namespace: 'ml', uid: 'u', resourceVersion: '1' },
    spec: {
      model: 'pets', version,
      artifact: { uri: `gs://b/models/pets/${name}`, format: 'tfjs-layers', sha256: 'a'.repeat(64) },
      classes: ['cat', 'dog'], inputShape: [96, 96, 3],
      metrics: {
        accuracy, precision: accuracy, recall: accuracy, f1: accuracy, testImages: 40,
        perClass: { cat: { precision: accuracy, recall: accuracy, f1: accuracy, support: 20 }, dog: { precision: 0.9, recall: 0.9, f1: 0.9, support: 20 } },
        confusionMatrix: [[18, 2], [2, 18]], confidenceHistogram: [0, 0, 0, 0, 0, 0, 10, 10, 10, 10], meanConfidence: 0.8,
      },
      lineage: { trainingRun: `${name}-run`, dataset: { uri: 'gs://b/data', digest: 'sha256:' + 'd'.repeat(64) }, codeVersion: '0.1.0', workerImage: 'kennel-worker:0.1.0', backend: 'wasm' },
    },
    status: { phase: 'Passed', gate: { passed: true, policy: {}, reasons: [], evaluatedAt: '2026-01-01T00:00:00Z' } },
  };
}

const run = (name: string) => ({ kind: 'TrainingRun', metadata: { name }, spec: { model: 'pets', architecture: 'compact-cnn', hyperparameters: { epochs: 4, augmentation: { horizontalFlip: false } } } });

describe('compare: ModelVersions', () => {
  it('reads a kubectl List of ModelVersions and TrainingRuns, ignoring other kinds', () => {
    const objects = parseKubeObjects({ kind: 'List', items: [mv('pets-v1', 1, 0.8), run('pets-v1-run'), { kind: 'ConfigMap', metadata: { name: 'x' } }] }, 'mv.json');
    expect(objects.modelVersions.map((m) => m.metadata.name)).to.deep.equal(['pets-v1']);
    expect(objects.trainingRuns.map((r) => r.metadata.name)).to.deep.equal(['pets-v1-run']);
    expect(parseKubeObjects(mv('pets-v2', 2, 0.9), 'one.json').modelVersions).to.have.length(1);
  });

  it('names a ModelVersion that does not match the schema', () => {
    const bad = mv('pets-v3', 3, 0.9) as { spec: { artifact: { sha256: string } } };
    bad.spec.artifact.sha256 = 'nope';
    expect(() => parseKubeObjects({ items: [bad] }, 'mv.json')).to.throw(/mv\.json: ModelVersion "pets-v3" is not a valid ModelVersion \(\/spec\/artifact\/sha256/);
  });

  it('takes metrics and lineage from the spec, gate from the status, hyperparameters and curves from the artifact', () => {
    const [v1] = parseKubeObjects(mv('pets-v1', 1, 0.8), 'x').modelVersions as [ModelVersionObject];
    const model = modelFromModelVersion(v1, { metadata: metadataFixture({}, { epochs: 7 }), metrics: metricsFixture(0.8, { precision: 0.8, recall: 0.8, f1: 0.8 }) }, undefined);
    expect(model.modelVersion).to.deep.equal({ name: 'pets-v1', namespace: 'ml', model: 'pets', version: 1, phase: 'Passed', gatePassed: true });
    expect(model.hyperparameters.epochs).to.equal(7);
    expect(model.metrics.testImages).to.equal(40);
    expect(model.metrics.expectedCalibrationError).to.equal(0.05);
    expect(model.lineage).to.deep.include({ trainingRun: 'pets-v1-run', workerImage: 'kennel-worker:0.1.0', backend: 'wasm', split: '0.8,0.1,0.1 seed 0' });
    expect(model.curves).to.have.length(2);
    expect(model.fineTuningFrom).to.equal(undefined);
    expect(model.notes).to.deep.equal([]);
  });

  it('joins a pretrained model\'s head epochs and fine-tuning epochs into one curve, and says where fine-tuning starts', () => {
    const [v1] = parseKubeObjects(mv('pets-v1', 1, 0.8), 'x').modelVersions as [ModelVersionObject];
    const metrics = metricsFixture(0.8, { precision: 0.8, recall: 0.8, f1: 0.8 });
    const head = [{ loss: 0.6, accuracy: 0.7, valLoss: 0.5, valAccuracy: 0.8 }, { loss: 0.4, accuracy: 0.8, valLoss: 0.4, valAccuracy: 0.85 }, { loss: 0.35, accuracy: 0.85, valLoss: 0.38, valAccuracy: 0.86 }];
    const pretrained = { ...metrics, training: { ...metrics.training, history: metrics.training?.history ?? [], headHistory: head } };
    const model = modelFromModelVersion(v1, { metadata: metadataFixture({}, { epochs: 7 }), metrics: pretrained }, undefined);
    expect(model.curves).to.have.length(5);
    expect(model.curves?.[2]?.valAccuracy).to.equal(0.86);
    expect(model.fineTuningFrom).to.equal(4);
  });

  it('falls back on the TrainingRun\'s hyperparameters when the artifact cannot be read, and says so', () => {
    const [v1, v2] = parseKubeObjects({ items: [mv('pets-v1', 1, 0.8), mv('pets-v2', 2, 0.9)] }, 'x').modelVersions as [ModelVersionObject, ModelVersionObject];
    const a = modelFromModelVersion(v1, { problem: 'AccessDenied: no credentials' }, parseKubeObjects(run('pets-v1-run'), 'x').trainingRuns[0]);
    const b = modelFromModelVersion(v2, { problem: 'NotFound: gone' }, undefined);
    expect(a.hyperparameters).to.deep.equal({ architecture: 'compact-cnn', epochs: 4, horizontalFlip: false });
    expect(a.architecture).to.equal('compact-cnn');
    expect(a.notes.join('\n')).to.include('artifact gs://b/models/pets/pets-v1 not read (AccessDenied: no credentials)').and.include('as TrainingRun pets-v1-run asked for them');
    expect(b.notes.join('\n')).to.include('hyperparameters unknown').and.include('TrainingRun pets-v2-run not found').and.include('pets-v2: no training curves');
    const c = compareModels([a, b]);
    expect(c.metrics.find((r) => r.key === 'accuracy')?.deltas[1]).to.be.closeTo(0.1, 1e-12);
    expect(c.lineage.find((r) => r.key === 'trainingRun')).to.deep.include({ values: ['pets-v1-run', 'pets-v2-run'], differs: true });
  });
});

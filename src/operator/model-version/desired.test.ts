import { expect } from 'chai';
import { exampleModelVersion, exampleTrainingRun } from '../../../test/fixtures/api-examples.js';
import { parseModelVersion } from '../../shared/api/parse.js';
import type { WorkerSuccess } from '../../shared/api/worker-report.js';
import { desiredModelVersion } from './desired.js';

describe('model-version from a successful run', () => {
  const metrics = exampleModelVersion().spec.metrics;
  const outcome: WorkerSuccess = {
    outcome: 'Succeeded',
    artifactUri: 'gs://bucket/kennel/default/cats-dogs/runs/r1-abc',
    format: 'tfjs-layers',
    sha256: 'b'.repeat(64),
    classes: ['cat', 'dog'],
    inputShape: [96, 96, 3],
    datasetUri: 'gs://kennel-data/datasets/cats-dogs',
    datasetDigest: 'sha256:abc',
    skippedFiles: 1,
    metrics,
    codeVersion: '0.1.0+abc',
    backend: 'wasm',
  };

  it('is born not eligible for serving, with its sweep\'s label, when the run is a sweep\'s trial', () => {
    const run = exampleTrainingRun('search-1');
    run.metadata.uid = 'uid-t1';
    expect(desiredModelVersion({ run, outcome, version: 2 }).metadata.annotations).to.equal(undefined);
    run.metadata.labels = { 'kennel.dev/training-sweep': 'search', 'kennel.dev/sweep-trial': '1' };
    const mv = desiredModelVersion({ run, outcome, version: 2 });
    expect(mv.metadata.labels).to.include({ 'kennel.dev/training-sweep': 'search' });
    expect(mv.metadata.annotations).to.include({ 'kennel.dev/serving-eligible': 'false' });
    expect(parseModelVersion(mv).ok).to.equal(true);
  });

  it('carries artifact, metrics, lineage and the run\'s gate, and no owner', () => {
    const run = exampleTrainingRun('r1');
    run.metadata.uid = 'uid-r1';
    const mv = desiredModelVersion({ run, outcome, version: 4, workerImage: 'w:1' });
    expect(mv.metadata.name).to.equal('cats-dogs-v4');
    expect(mv.metadata).to.not.have.property('ownerReferences');
    expect(mv.metadata.labels).to.include({ 'kennel.dev/model': 'cats-dogs', 'kennel.dev/version': '4', 'kennel.dev/training-run-uid': 'uid-r1' });
    expect(mv.spec.artifact).to.deep.equal({ uri: outcome.artifactUri, format: 'tfjs-layers', sha256: 'b'.repeat(64) });
    expect(mv.spec.metrics).to.deep.equal(metrics);
    expect(mv.spec.lineage).to.deep.equal({
      trainingRun: 'r1',
      trainingRunUid: 'uid-r1',
      dataset: { uri: 'gs://kennel-data/datasets/cats-dogs', digest: 'sha256:abc' },
      codeVersion: '0.1.0+abc',
      backend: 'wasm',
      workerImage: 'w:1',
    });
    expect(mv.spec.gate).to.deep.equal(run.spec.evaluation);
    const parsed = parseModelVersion(mv);
    expect(parsed.ok, JSON.stringify(parsed)).to.equal(true);
  });

  it('records every dataset source with its digest in the lineage', () => {
    const run = exampleTrainingRun('r2');
    run.metadata.uid = 'uid-r2';
    const datasetSources = [
      { uri: 'gs://kennel-data/datasets/cats-dogs', type: 'ClassFolders' as const, digest: 'a'.repeat(64), images: 2000 },
      { uri: 'gs://kennel-data/logs/cats-dogs', type: 'PredictionLog' as const, digest: 'c'.repeat(64), images: 37 },
    ];
    const mv = desiredModelVersion({ run, outcome: { ...outcome, datasetSources }, version: 5 });
    expect(mv.spec.lineage.dataset).to.deep.equal({ uri: 'gs://kennel-data/datasets/cats-dogs', digest: 'sha256:abc', sources: datasetSources });
    expect(parseModelVersion(mv).ok).to.equal(true);
  });
});

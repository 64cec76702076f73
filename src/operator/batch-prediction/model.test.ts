import { expect } from 'chai';
import { exampleBatchPrediction, exampleInferenceService, exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import { resolveModel } from './model.js';

describe('batch-prediction model', () => {
  const versions = [exampleModelVersion('cats-dogs-v1', 1), exampleModelVersion('cats-dogs-v2', 2)];
  const serving = exampleInferenceService('cats-dogs');
  serving.status = { currentModelVersion: 'cats-dogs-v1', canary: { modelVersion: 'cats-dogs-v2', step: 0, weight: 10, startedAt: '2026-01-01T00:00:00Z', stepStartedAt: '2026-01-01T00:00:00Z' } };

  it('is the named version, whatever its gate', () => {
    const b = exampleBatchPrediction();
    b.spec.model = { modelVersion: 'cats-dogs-v2' };
    const r = resolveModel(b, versions, []);
    expect(r.ok && r.modelVersion.metadata.name).to.equal('cats-dogs-v2');
  });

  it('is the version a service serves as stable, never its canary', () => {
    const r = resolveModel(exampleBatchPrediction(), versions, [serving]);
    expect(r.ok && r.modelVersion.metadata.name).to.equal('cats-dogs-v1');
  });

  it('waits, saying for what, when the version or the service is missing or serves nothing', () => {
    const named = exampleBatchPrediction();
    named.spec.model = { modelVersion: 'cats-dogs-v9' };
    expect(resolveModel(named, versions, [])).to.deep.equal({ ok: false, message: 'waiting for ModelVersion cats-dogs-v9, which does not exist' });
    expect(resolveModel(exampleBatchPrediction(), versions, [])).to.deep.include({ ok: false });
    const idle = exampleInferenceService('cats-dogs');
    const r = resolveModel(exampleBatchPrediction(), versions, [idle]);
    expect(!r.ok && r.message).to.equal('waiting for InferenceService cats-dogs to serve a version');
  });
});

import { expect } from 'chai';
import { parseInferenceService, parseTrainingRun } from '../src/shared/api/parse.js';
import { inferenceServiceFromExample, merge, trainingRunFromExample } from './manifests.js';

describe('local cluster: manifests patched from examples/', () => {
  it('merge deep-merges objects, replaces arrays and deletes undefined', () => {
    expect(merge({ a: { b: 1, c: 2 }, d: [1, 2], e: 1 }, { a: { c: 3 }, d: [9], e: undefined })).to.deep.equal({ a: { b: 1, c: 3 }, d: [9] });
  });

  it('the patched TrainingRun is valid, points at the test dataset and trains briefly', () => {
    const tr = trainingRunFromExample({ name: 'r', namespace: 'ns', datasetUri: 'gs://bucket/d', hyperparameters: { epochs: 2, imageSize: 32, earlyStoppingPatience: undefined }, evaluation: { minAccuracy: 0.5 } });
    const parsed = parseTrainingRun(tr);
    expect(parsed.ok, JSON.stringify(parsed)).to.equal(true);
    expect(tr.spec?.hyperparameters).to.include({ epochs: 2, imageSize: 32 });
    expect(tr.spec?.hyperparameters).to.not.have.property('earlyStoppingPatience');
    expect(tr.spec?.dataset).to.deep.equal({ uri: 'gs://bucket/d', classes: ['cat', 'dog'] });
  });

  it('the patched InferenceService is valid, with short canary pauses and a 5s scrape interval', () => {
    const isvc = inferenceServiceFromExample({ namespace: 'ns', progressDeadlineSeconds: 60 });
    const parsed = parseInferenceService(isvc);
    expect(parsed.ok, JSON.stringify(parsed)).to.equal(true);
    expect(isvc.spec?.monitoring).to.deep.equal({ enabled: true, interval: '5s' });
    expect((isvc.spec?.rollout as { progressDeadlineSeconds: number }).progressDeadlineSeconds).to.equal(60);
    // The example's prediction log and retraining point at a bucket the local cluster lacks: off unless given.
    expect(isvc.spec).to.not.have.any.keys('logging', 'retraining');
    const logged = inferenceServiceFromExample({ namespace: 'ns', progressDeadlineSeconds: 60, logging: { uri: 'gs://kennel-data/logs', imageSampleRate: 1 } });
    expect(logged.spec?.logging).to.deep.equal({ uri: 'gs://kennel-data/logs', imageSampleRate: 1 });
    expect(parseInferenceService(logged).ok).to.equal(true);
  });
});

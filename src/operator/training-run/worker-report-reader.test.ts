import { expect } from 'chai';
import { latestEpoch, parseOutcome, terminatedContainer } from './worker-report-reader.js';

const success = {
  outcome: 'Succeeded',
  artifactUri: 'gs://b/m/run',
  format: 'tfjs-layers',
  sha256: 'a'.repeat(64),
  classes: ['cat', 'dog'],
  inputShape: [64, 64, 3],
  datasetUri: 'gs://b/d',
  datasetDigest: 'sha256:x',
  skippedFiles: 0,
  metrics: {
    accuracy: 0.9,
    precision: 0.9,
    recall: 0.9,
    f1: 0.9,
    testImages: 10,
    perClass: { cat: { precision: 1, recall: 1, f1: 1, support: 5 } },
    confusionMatrix: [
      [5, 0],
      [1, 4],
    ],
    confidenceHistogram: [0, 0, 0, 0, 0, 1, 1, 2, 3, 3],
    meanConfidence: 0.8,
  },
  codeVersion: '0.1.0',
  backend: 'wasm',
};

describe('worker report reader', () => {
  it('takes the newest valid epoch line of a pino log, ignoring other lines and garbage', () => {
    const log = [
      '{"level":"info","msg":"loading dataset"}',
      '{"level":"info","time":"t","msg":"epoch","event":"epoch","epoch":1,"epochs":3,"loss":0.7,"accuracy":0.5}',
      '{"level":"info","msg":"epoch","event":"epoch","epoch":2,"epochs":3,"loss":0.5,"accuracy":0.7,"valAccuracy":0.65}',
      '{"event":"epoch","epoch":"three"}',
      'not json',
      '',
    ].join('\n');
    expect(latestEpoch(log)).to.deep.equal({ event: 'epoch', epoch: 2, epochs: 3, loss: 0.5, accuracy: 0.7, valAccuracy: 0.65 });
    expect(latestEpoch('nothing here')).to.equal(undefined);
  });

  it('parses a termination message only when it is a WorkerOutcome', () => {
    expect(parseOutcome(JSON.stringify(success))?.outcome).to.equal('Succeeded');
    expect(parseOutcome(JSON.stringify({ outcome: 'Failed', reason: 'DatasetNotFound', message: 'no such prefix' }))).to.deep.equal({
      outcome: 'Failed',
      reason: 'DatasetNotFound',
      message: 'no such prefix',
    });
    expect(parseOutcome(JSON.stringify({ outcome: 'Failed', reason: 'Bogus', message: '' }))).to.equal(undefined);
    expect(parseOutcome('{"outcome":"Succ')).to.equal(undefined);
  });

  it('reads the terminated container of a pod', () => {
    const pod = { status: { containerStatuses: [{ name: 'train', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] } };
    expect(terminatedContainer(pod)).to.deep.equal({ reason: 'OOMKilled', exitCode: 137 });
    const done = { status: { containerStatuses: [{ name: 'train', state: { terminated: { reason: 'Completed', exitCode: 0, message: JSON.stringify(success) } } }] } };
    expect(terminatedContainer(done, 'train')?.outcome?.outcome).to.equal('Succeeded');
    expect(terminatedContainer({ status: { containerStatuses: [{ state: { running: {} } }] } })).to.equal(undefined);
  });
});

import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TERMINATION_MESSAGE_LIMIT, type WorkerSuccess } from '../../shared/api/worker-report.js';
import { TerminalError } from '../../shared/errors.js';
import { StorageError } from '../../shared/storage/index.js';
import { failureFrom, serializeOutcome, writeTerminationMessage } from './outcome.js';

function success(classes: number): WorkerSuccess {
  const names = Array.from({ length: classes }, (_, i) => `class-with-a-long-name-${i}`);
  return {
    outcome: 'Succeeded', artifactUri: 'gs://b/m', format: 'tfjs-layers', sha256: 'a'.repeat(64), classes: names, inputShape: [96, 96, 3],
    datasetUri: 'gs://b/d', datasetDigest: 'b'.repeat(64), skippedFiles: 0, codeVersion: '0.1.0', backend: 'wasm',
    metrics: {
      accuracy: 0.9, precision: 0.9, recall: 0.9, f1: 0.9, testImages: 100,
      perClass: Object.fromEntries(names.map((n) => [n, { precision: 0.9, recall: 0.9, f1: 0.9, support: 10 }])),
      confusionMatrix: names.map(() => names.map(() => 1)),
      confidenceHistogram: [0, 0, 0, 0, 0, 10, 10, 20, 30, 30], meanConfidence: 0.8,
    },
  };
}

describe('worker outcome', () => {
  it('keeps a small outcome whole and slims a large one under 4 KiB', () => {
    expect(JSON.parse(serializeOutcome(success(2)))).to.deep.equal(success(2));
    const big = JSON.parse(serializeOutcome(success(40))) as WorkerSuccess;
    expect(Buffer.byteLength(serializeOutcome(success(40)))).to.be.at.most(TERMINATION_MESSAGE_LIMIT);
    expect(big.metrics.perClass).to.deep.equal({});
    expect(big.metrics.accuracy).to.equal(0.9);
    const long = serializeOutcome({ outcome: 'Failed', reason: 'InternalError', message: 'x'.repeat(10_000) });
    expect(Buffer.byteLength(long)).to.be.at.most(TERMINATION_MESSAGE_LIMIT);
  });

  it('maps errors to the contract reasons', () => {
    expect(failureFrom(new TerminalError('InvalidDataset', 'one class'))).to.deep.equal({ outcome: 'Failed', reason: 'InvalidDataset', message: 'one class' });
    expect(failureFrom(new TerminalError('SomethingElse', 'x')).reason).to.equal('InternalError');
    expect(failureFrom(new StorageError('NotFound', 'gs://b/data/x', 'nf'), { dataUri: 'gs://b/data' }).reason).to.equal('DatasetNotFound');
    expect(failureFrom(new StorageError('NotFound', 'gs://missing-bucket/m/weights.bin', 'nf'), { dataUri: 'gs://b/data' }).reason).to.equal('InvalidArguments');
    expect(failureFrom(new StorageError('AccessDenied', 'gs://b/m', 'no')).reason).to.equal('StorageAccessDenied');
    expect(failureFrom(new StorageError('Unavailable', 'gs://b/m', 'later')).reason).to.equal('StorageUnavailable');
    expect(failureFrom(new StorageError('InvalidUri', 's3://x', 'bad')).reason).to.equal('InvalidArguments');
    expect(failureFrom(new Error('boom'))).to.deep.equal({ outcome: 'Failed', reason: 'InternalError', message: 'boom' });
  });

  it('writes to KENNEL_TERMINATION_LOG', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-term-'));
    const file = path.join(dir, 'log');
    expect(await writeTerminationMessage({ outcome: 'Failed', reason: 'InvalidArguments', message: 'm' }, { KENNEL_TERMINATION_LOG: file })).to.equal(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).to.deep.equal({ outcome: 'Failed', reason: 'InvalidArguments', message: 'm' });
    await rm(dir, { recursive: true, force: true });
  });
});

import { expect } from 'chai';
import { TerminalError } from '../../shared/errors.js';
import { StorageError } from '../../shared/storage/index.js';
import { ArtifactError } from '../../ml/artifact.js';
import type { BatchShardSuccess } from '../../shared/api/batch-report.js';
import { TERMINATION_MESSAGE_LIMIT } from '../../shared/api/worker-report.js';
import { batchFailureFrom, exitCodeOf, serializeBatchOutcome } from './outcome.js';

describe('predict-batch outcome', () => {
  const ctx = { inputUri: 'gs://b/photos', modelUri: 'gs://b/models/m1' };

  it('names what failed: the input, the model, the storage, or Kennel itself', () => {
    const reason = (err: unknown) => batchFailureFrom(err, ctx).reason;
    expect(reason(new StorageError('NotFound', 'gs://b/photos', 'bucket not found'))).to.equal('InputNotFound');
    expect(reason(new StorageError('NotFound', 'gs://b/models/m1/metadata.json', 'not found'))).to.equal('ModelUnusable');
    expect(reason(new ArtifactError('digest-mismatch', 'gs://b/models/m1', 'replaced'))).to.equal('ModelUnusable');
    expect(reason(new StorageError('AccessDenied', 'gs://b/out/x', 'denied'))).to.equal('StorageAccessDenied');
    expect(reason(new StorageError('Unavailable', 'gs://b/out/x', '503'))).to.equal('StorageUnavailable');
    expect(reason(new TerminalError('InvalidArguments', '--input is required'))).to.equal('InvalidArguments');
    expect(reason(new TerminalError('TrainingDiverged', 'not ours'))).to.equal('InternalError');
    expect(reason(new Error('boom'))).to.equal('InternalError');
  });

  it('exits 1 when a retry cannot help and 2 when it may', () => {
    expect(exitCodeOf({ outcome: 'Failed', reason: 'InputNotFound', message: '' })).to.equal(1);
    expect(exitCodeOf({ outcome: 'Failed', reason: 'StorageUnavailable', message: '' })).to.equal(2);
  });

  it('fits the termination message: per-class counts go first', () => {
    const perClass = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`class-${i}`, i]));
    const big: BatchShardSuccess = { outcome: 'Succeeded', shard: 0, shards: 1, total: 9, images: 9, predicted: 9, failed: 0, resumed: 0, perClass, imagesPerSecond: 3 };
    const text = serializeBatchOutcome(big);
    expect(Buffer.byteLength(text)).to.be.at.most(TERMINATION_MESSAGE_LIMIT);
    expect(JSON.parse(text)).to.not.have.property('perClass');
    const small = serializeBatchOutcome({ ...big, perClass: { cat: 9 } });
    expect(JSON.parse(small).perClass).to.deep.equal({ cat: 9 });
    const failure = serializeBatchOutcome({ outcome: 'Failed', reason: 'InternalError', message: 'x'.repeat(10_000) });
    expect(Buffer.byteLength(failure)).to.be.at.most(TERMINATION_MESSAGE_LIMIT);
  });
});

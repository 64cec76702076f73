import { expect } from 'chai';
import { TerminalError } from '../../shared/errors.js';
import { isInside, parseBatchOptions } from './options.js';

describe('predict-batch options', () => {
  const base = { model: 'gs://b/models/m/', input: 'gs://b/photos/', output: 'gs://b/out' };

  it('takes the shard from --shard, or from the Indexed Job\'s JOB_COMPLETION_INDEX', () => {
    const o = parseBatchOptions({ ...base, shards: '3', shard: '2' }, {});
    expect(o).to.deep.include({ modelUri: 'gs://b/models/m', inputUri: 'gs://b/photos', outputUri: 'gs://b/out', shards: 3, shard: 2, batchSize: 32 });
    expect(parseBatchOptions({ ...base, shards: '3' }, { JOB_COMPLETION_INDEX: '1' }).shard).to.equal(1);
    expect(parseBatchOptions(base, {}).shard).to.equal(0);
    expect(Object.isFrozen(o)).to.equal(true);
  });

  it('refuses a missing or out-of-range shard, a bad digest and an output inside the input, as InvalidArguments', () => {
    const refused = (raw: Parameters<typeof parseBatchOptions>[0], env: NodeJS.ProcessEnv, message: RegExp) => {
      let err: unknown;
      try {
        parseBatchOptions(raw, env);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(TerminalError);
      expect((err as TerminalError).reason).to.equal('InvalidArguments');
      expect((err as Error).message).to.match(message);
    };
    refused({ ...base, shards: '3' }, {}, /--shard <index> is required/);
    refused({ ...base, shards: '3', shard: '3' }, {}, /--shard must be between 0 and 2/);
    refused({ ...base, modelSha256: 'xyz' }, {}, /--model-sha256/);
    refused({ ...base, output: 'gs://b/photos/results' }, {}, /inside --input/);
    refused({ ...base, input: undefined }, {}, /--input/);
  });

  it('tells inside from beside', () => {
    expect(isInside('gs://b/photos/out', 'gs://b/photos')).to.equal(true);
    expect(isInside('gs://b/photos', 'gs://b/photos/')).to.equal(true);
    expect(isInside('gs://b/photos-out', 'gs://b/photos')).to.equal(false);
    expect(parseBatchOptions({ ...base, input: 'file:///' }, {}).inputUri).to.equal('file:///');
  });
});

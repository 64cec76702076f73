import { expect } from 'chai';
import { epochProgressLines, outcomeFromPods, parseWorkerOutcome } from './worker-output.js';

describe('training-run worker output', () => {
  it('reads the latest epoch line among other log lines', () => {
    const log = [
      '{"level":30,"msg":"loading"}',
      '{"event":"epoch","epoch":1,"epochs":3,"loss":0.7,"accuracy":0.5}',
      'not json {"event":"epoch"',
      '{"event":"epoch","epoch":2,"epochs":3,"loss":0.6,"accuracy":0.6,"valAccuracy":0.62}',
      '{"event":"epoch","epoch":"bad"}',
      '',
    ].join('\n');
    expect(epochProgressLines(log).at(-1)).to.deep.equal({ event: 'epoch', epoch: 2, epochs: 3, loss: 0.6, accuracy: 0.6, valAccuracy: 0.62 });
    expect(epochProgressLines('').at(-1)).to.equal(undefined);
    expect(epochProgressLines(log).map((l) => l.epoch)).to.deep.equal([1, 2]);
    expect(epochProgressLines(undefined)).to.deep.equal([]);
  });

  it('parses a failure outcome and rejects malformed ones', () => {
    expect(parseWorkerOutcome('{"outcome":"Failed","reason":"DatasetNotFound","message":"no such prefix"}')).to.deep.equal({
      outcome: 'Failed',
      reason: 'DatasetNotFound',
      message: 'no such prefix',
    });
    expect(parseWorkerOutcome('{"outcome":"Failed","reason":"Nope","message":""}')).to.equal(undefined);
    expect(parseWorkerOutcome('Error: boom')).to.equal(undefined);
  });

  it('takes the outcome of the newest pod', () => {
    const pod = (start: string, message: string) => ({
      status: { startTime: start, containerStatuses: [{ name: 'train', state: { terminated: { exitCode: 1, message } } }] },
    });
    const older = pod('2026-01-01T00:00:00Z', '{"outcome":"Failed","reason":"StorageUnavailable","message":"503"}');
    const newer = pod('2026-01-01T00:10:00Z', '{"outcome":"Failed","reason":"InvalidDataset","message":"1 class"}');
    expect(outcomeFromPods([older, newer])).to.have.property('reason', 'InvalidDataset');
  });
});

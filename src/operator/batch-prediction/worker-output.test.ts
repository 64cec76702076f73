import { expect } from 'chai';
import type { PodWire } from '../shared/wire.js';
import { latestBatchProgress, outcomesByShard, parseBatchOutcome, runningPodsByShard, shardOfPod } from './worker-output.js';

const pod = (name: string, shard: number, startTime: string, state: NonNullable<PodWire['status']>): PodWire => ({
  metadata: { name, annotations: { 'batch.kubernetes.io/job-completion-index': String(shard) } },
  status: { startTime, ...state },
});
const terminated = (message: string) => ({ phase: 'Failed', containerStatuses: [{ name: 'predict', state: { terminated: { exitCode: 1, message } } }] });
const success = (shard: number) => JSON.stringify({ outcome: 'Succeeded', shard, shards: 2, total: 10, images: 5, predicted: 5, failed: 0, resumed: 0, imagesPerSecond: 9 });

describe('batch-prediction worker output', () => {
  it('reads the latest progress line of a log, ignoring other lines', () => {
    const log = [
      '{"level":"info","msg":"starting shard"}',
      '{"level":"info","event":"batch-progress","shard":1,"shards":3,"done":32,"images":100,"total":300,"failed":0,"msg":"batch progress"}',
      '{"level":"info","event":"batch-progress","shard":1,"shards":3,"done":64,"images":100,"total":300,"failed":1,"msg":"batch progress"}',
      'garbage',
    ].join('\n');
    expect(latestBatchProgress(log)).to.deep.include({ done: 64, failed: 1, total: 300 });
    expect(latestBatchProgress('{"event":"batch-progress","shard":"x"}')).to.equal(undefined);
    expect(latestBatchProgress(undefined)).to.equal(undefined);
  });

  it('parses only outcomes of the contract', () => {
    expect(parseBatchOutcome(success(0))?.outcome).to.equal('Succeeded');
    expect(parseBatchOutcome('{"outcome":"Failed","reason":"InputNotFound","message":"no files"}')?.outcome).to.equal('Failed');
    expect(parseBatchOutcome('{"outcome":"Failed","reason":"Whatever","message":"x"}')).to.equal(undefined);
    expect(parseBatchOutcome('not json')).to.equal(undefined);
  });

  it('takes each shard\'s outcome from its newest pod that reported one, and its running pod', () => {
    const pods = [
      pod('a-0-old', 0, '2026-01-01T00:00:00Z', terminated('{"outcome":"Failed","reason":"StorageUnavailable","message":"503"}')),
      pod('a-0-new', 0, '2026-01-01T00:01:00Z', { phase: 'Succeeded', containerStatuses: [{ name: 'predict', state: { terminated: { exitCode: 0, message: success(0) } } }] }),
      pod('a-1', 1, '2026-01-01T00:00:00Z', { phase: 'Running', containerStatuses: [{ name: 'predict', state: { running: {} } }] }),
    ];
    const outcomes = outcomesByShard(pods);
    expect(outcomes.get(0)?.outcome).to.equal('Succeeded');
    expect(outcomes.has(1)).to.equal(false);
    expect([...runningPodsByShard(pods).keys()]).to.deep.equal([1]);
    expect(shardOfPod({ metadata: { labels: { 'batch.kubernetes.io/job-completion-index': '7' } } })).to.equal(7);
    expect(shardOfPod({ metadata: {} })).to.equal(undefined);
  });
});

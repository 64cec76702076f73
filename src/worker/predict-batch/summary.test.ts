import { expect } from 'chai';
import type { BatchResultLine, BatchShardSummary } from '../../shared/api/batch-report.js';
import { countLines, MAX_LISTED_FAILURES, mergeSummaries } from './summary.js';

describe('predict-batch summaries', () => {
  const ok = (path: string, label: string): BatchResultLine => ({ path, label, confidence: 0.8, probabilities: { cat: 0.8, dog: 0.2 } });
  const bad = (path: string): BatchResultLine => ({ path, error: { reason: 'corrupt', message: 'truncated JPEG' } });

  it('counts labels (every class listed, zeros included) and lists failures', () => {
    const c = countLines([ok('a', 'cat'), ok('b', 'cat'), bad('c')], ['cat', 'dog']);
    expect(c).to.deep.equal({ images: 3, predicted: 2, failed: 1, perClass: { cat: 2, dog: 0 }, failures: [{ path: 'c', reason: 'corrupt', message: 'truncated JPEG' }] });
  });

  it('caps the failures it lists, never the count', () => {
    const lines = Array.from({ length: MAX_LISTED_FAILURES + 5 }, (_, i) => bad(`x${i}`));
    const c = countLines(lines, ['cat', 'dog']);
    expect(c.failed).to.equal(MAX_LISTED_FAILURES + 5);
    expect(c.failures).to.have.length(MAX_LISTED_FAILURES);
    expect(c.failuresTruncated).to.equal(true);
  });

  it('merges shards in shard order', () => {
    const shard = (n: number, cats: number, failures: string[]): BatchShardSummary => ({
      shard: n,
      shards: 2,
      file: `predictions-0000${n}-of-00002.jsonl`,
      images: cats + failures.length,
      predicted: cats,
      failed: failures.length,
      perClass: { cat: cats, dog: 0 },
      failures: failures.map((path) => ({ path, reason: 'empty', message: 'empty file' })),
    });
    const s = mergeSummaries([shard(1, 3, ['z']), shard(0, 2, ['y'])], { input: 'gs://b/in', shards: 2, model: { uri: 'gs://b/m', sha256: 'a'.repeat(64), classes: ['cat', 'dog'] } });
    expect(s).to.deep.include({ images: 7, predicted: 5, failed: 2, perClass: { cat: 5, dog: 0 }, files: ['predictions-00000-of-00002.jsonl', 'predictions-00001-of-00002.jsonl'] });
    expect(s.failures.map((f) => f.path)).to.deep.equal(['y', 'z']);
  });
});

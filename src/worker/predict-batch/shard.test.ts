import { expect } from 'chai';
import type { StorageEntry } from '../../shared/storage/index.js';
import { selectShard, shardOf } from './shard.js';

const entry = (name: string): StorageEntry => ({ name, uri: `gs://b/in/${name}`, size: 1 });

describe('predict-batch shards', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `${i % 2 ? 'dog' : 'cat'}/${String(i).padStart(5, '0')}.jpg`);

  it('puts every image in exactly one shard, the same one whatever else is listed', () => {
    const shards = 3;
    const picks = [0, 1, 2].map((shard) => selectShard(names.map(entry), { shard, shards }));
    const seen = picks.flatMap((p) => p.mine.map((e) => e.name)).sort();
    expect(seen).to.deep.equal([...names].sort());
    expect(picks.every((p) => p.total === names.length)).to.equal(true);
    // a file added later does not move the others
    const more = selectShard([...names, 'cat/new.jpg'].map(entry), { shard: 1, shards });
    expect(more.mine.filter((e) => e.name !== 'cat/new.jpg').map((e) => e.name)).to.deep.equal(picks[1]?.mine.map((e) => e.name));
  });

  it('spreads images evenly (within 10% of the mean for 3,000 images over 3 shards)', () => {
    const sizes = [0, 1, 2].map((shard) => selectShard(names.map(entry), { shard, shards: 3 }).mine.length);
    for (const size of sizes) expect(Math.abs(size - 1000)).to.be.below(100);
  });

  it('sorts a shard by path, skips hidden files and the excluded output prefix', () => {
    const entries = ['b.jpg', 'a.jpg', '.hidden.jpg', 'x/.cache/c.jpg', 'out/predictions.jsonl'].map(entry);
    const one = selectShard(entries, { shard: 0, shards: 1, excluded: (e) => e.name.startsWith('out/') });
    expect(one.mine.map((e) => e.name)).to.deep.equal(['a.jpg', 'b.jpg']);
    expect(one.total).to.equal(2);
  });

  it('is a pure function of the path', () => {
    expect(shardOf('cat/1.jpg', 7)).to.equal(shardOf('cat/1.jpg', 7));
    expect(shardOf('anything', 1)).to.equal(0);
    expect(() => shardOf('x', 0)).to.throw(/positive integer/);
  });
});

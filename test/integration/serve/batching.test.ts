import { expect } from 'chai';
import { createTinyArtifact, loadPhotos, requirePhotos, startTestServer, type TestServer } from './helpers.js';

/** Sum of a histogram's _count and _sum lines from Prometheus text. */
function histogram(text: string, name: string): { count: number; sum: number } {
  const count = Number(text.match(new RegExp(`^${name}_count\\{[^}]*\\} (\\S+)`, 'm'))?.[1]);
  const sum = Number(text.match(new RegExp(`^${name}_sum\\{[^}]*\\} (\\S+)`, 'm'))?.[1]);
  return { count, sum };
}

describe('kennel serve: micro-batching over two model workers, tensor hygiene', function () {
  this.timeout(180_000);
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let photos: { name: string; bytes: Buffer }[];

  before(async function () {
    requirePhotos(this);
    const art = await createTinyArtifact({ size: 64 });
    cleanup = art.cleanup;
    // A 25 ms batching window: the 48 requests reach the batcher only as fast as they are read and
    // decoded, and on a loaded machine that trickle outlasted a 5 ms window (CI: 25 calls for 48).
    server = await startTestServer(art.uri, { workers: 2, maxBatchSize: 8, maxWaitMs: 25 });
    photos = await loadPhotos(8);
  });
  after(async () => {
    await server?.stop();
    await cleanup?.();
  });

  const predict = (bytes: Buffer) => fetch(`${server.url}/predict`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'image/jpeg' } });

  it('runs the model workers on the fastest build of the kernels (relaxed SIMD: fused multiply-add)', () => {
    const ready = server.logs.lines.find((l) => l.msg === 'model workers ready');
    expect(ready, 'the model workers log which backend and kernels they run').to.not.equal(undefined);
    expect(ready).to.include({ workers: 2 });
    // tfjs-node (not installable here) would run native TensorFlow; otherwise the wasm backend.
    if (ready?.backend !== 'tensorflow') expect(ready).to.include({ backend: 'wasm', kernels: 'relaxed-simd' });
  });

  it('coalesces concurrent requests into batches, and every answer matches the same image sent alone', async () => {
    const alone = new Map<string, unknown>();
    for (const p of photos.slice(0, 4)) alone.set(p.name, ((await (await predict(p.bytes)).json()) as { probabilities: unknown }).probabilities);
    const before = histogram(await (await fetch(`${server.url}/metrics`)).text(), 'kennel_serve_batch_size');
    const n = 48;
    const chosen = Array.from({ length: n }, (_, i) => photos[i % 4]!);
    const answers = await Promise.all(chosen.map(async (p) => ({ p, res: await predict(p.bytes) })));
    for (const { p, res } of answers) {
      expect(res.status).to.equal(200);
      const got = ((await res.json()) as { probabilities: Record<string, number> }).probabilities;
      const want = alone.get(p.name) as Record<string, number>;
      for (const cls of Object.keys(want)) expect(got[cls]).to.be.closeTo(want[cls]!, 1e-4);
    }
    const after = histogram(await (await fetch(`${server.url}/metrics`)).text(), 'kennel_serve_batch_size');
    const images = after.sum - before.sum;
    const batches = after.count - before.count;
    expect(images).to.equal(n);
    expect(batches, `${n} images in ${batches} model calls`).to.be.lessThan(n / 2);
  });

  it('the TF.js tensor count over both workers stays the same across hundreds of predictions', async () => {
    const tensors = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(text.match(/^kennel_serve_tfjs_tensors\{[^}]*\} (\d+)/m)?.[1]);
    };
    const start = await tensors();
    expect(start).to.be.greaterThan(0);
    for (let round = 0; round < 10; round++) {
      await Promise.all(photos.map((p) => predict(p.bytes)));
      // a bad image in the mix must not leak either
      await predict(photos[0]!.bytes.subarray(0, 500));
    }
    expect(await tensors()).to.equal(start);
    const predictor = server.handle.deps.model.current!.predictor;
    expect((await predictor.stats()).numTensors).to.equal(start);
  });
});

import { expect } from 'chai';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTinyArtifact, loadPhotos, multipart, pngHeaderClaiming, requirePhotos, startTestServer, type TestServer } from './helpers.js';
import { seededRandom as prng } from '../../../src/shared/random.js';


/** Heap plus ArrayBuffers still alive after a full garbage collection (gc exposed at runtime). */
async function liveMemory(): Promise<{ live: number; rss: number }> {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  return { live: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

describe('kennel serve: fuzz (≥ 1,000 random and mutated requests)', function () {
  this.timeout(600_000);
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let photos: Buffer[];

  before(async function () {
    requirePhotos(this);
    const art = await createTinyArtifact();
    cleanup = art.cleanup;
    server = await startTestServer(art.uri, { workers: 1, maxImageBytes: 1_000_000, maxJsonBytes: 2_000_000, maxInstances: 4 });
    photos = (await loadPhotos(4)).map((p) => p.bytes);
  });
  after(async () => {
    await server?.stop();
    await cleanup?.();
  });

  it('answers every request with a status below 500 and a JSON error for 4xx; memory and tensors do not grow', async () => {
    const seed = Number(process.env.KENNEL_FUZZ_SEED ?? Date.now() % 1_000_000);
    console.log(`    fuzz seed ${seed} (replay with KENNEL_FUZZ_SEED=${seed})`);
    const rnd = prng(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
    const mutate = (src: Buffer): Buffer => {
      const b = Buffer.from(src);
      const op = int(4);
      if (op === 0) return b.subarray(0, int(b.length));
      if (op === 1) {
        for (let i = 0, n = 1 + int(40); i < n; i++) b[int(b.length)] = int(256);
        return b;
      }
      if (op === 2) return Buffer.concat([b.subarray(0, int(b.length)), Buffer.from(randomBytes(int(2000))), b.subarray(int(b.length))]);
      return Buffer.concat([b.subarray(0, 2 + int(20)), Buffer.from(randomBytes(int(5000)))]);
    };
    const b64 = (b: Buffer) => b.toString('base64');
    const types = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream', 'text/plain', 'application/json', 'multipart/form-data', 'application/x-www-form-urlencoded', '', 'image/*;;;', 'multipart/form-data; boundary='];
    const names = ['pets', 'horses', '', '..%2F..%2Fetc', '%00', 'pets%3Apredict', 'p'.repeat(300), '%F0%9F%90%B1'];

    const generators: (() => FuzzRequest)[] = [
      () => ({ kind: 'mutated-jpeg-raw', method: 'POST', path: '/predict', headers: { 'content-type': 'image/jpeg' }, body: mutate(pick(photos)) }),
      () => {
        const mp = multipart([{ field: pick(['file', 'file', 'image', '']), filename: 'x.jpg', type: 'image/jpeg', bytes: mutate(pick(photos)) }]);
        const body = rnd() < 0.3 ? mp.body.subarray(0, int(mp.body.length)) : mp.body;
        return { kind: 'mutated-multipart', method: 'POST', path: '/predict', headers: { 'content-type': rnd() < 0.1 ? 'multipart/form-data; boundary=other' : mp.contentType }, body };
      },
      () => ({ kind: 'random-bytes', method: 'POST', path: '/predict', headers: { 'content-type': pick(types) }, body: randomBytes(int(4000)) }),
      () => ({ kind: 'empty', method: 'POST', path: pick(['/predict', '/v1/models/pets:predict', '/v2/models/pets/infer', '/feedback']), headers: { 'content-type': pick(types) }, body: '' }),
      () => ({ kind: 'bomb', method: 'POST', path: '/predict', headers: { 'content-type': 'image/png' }, body: pngHeaderClaiming(1 + int(200_000), 1 + int(200_000)) }),
      () => {
        const inst = Array.from({ length: 1 + int(6) }, () => (rnd() < 0.5 ? { b64: pick([b64(mutate(pick(photos))), '!!!', 'AAA', '', b64(Buffer.from('not an image'))]) } : { image_bytes: { b64: b64(mutate(pick(photos))) } }));
        return { kind: 'v1-bad', method: 'POST', path: `/v1/models/${pick(names)}:${pick(['predict', 'predict', 'explain', ''])}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: inst }) };
      },
      () => {
        const json = JSON.stringify(pick<unknown>([{ instances: [{ b64: b64(pick(photos)) }] }, { instances: null }, [1, 2, 3], 'str', 42, { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [b64(pick(photos))] }] }, { a: { b: { c: [] } } }]));
        const body = rnd() < 0.5 ? json.slice(0, int(json.length)) : json;
        return { kind: 'bad-json', method: 'POST', path: pick(['/v1/models/pets:predict', '/v2/models/pets/infer', '/feedback']), headers: { 'content-type': pick(['application/json', 'application/json; charset=utf-8', 'text/json', 'application/json; charset=latin9']) }, body };
      },
      () => {
        const n = int(5);
        const shape = pick([[n], [n, 1], [n, 2], [-1], [1, 1, 1]]);
        const data = Array.from({ length: n }, () => pick([b64(pick(photos)), b64(mutate(pick(photos))), '%%%', '']));
        return { kind: 'v2', method: 'POST', path: `/v2/models/${pick(names)}/infer`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'image', shape, datatype: pick(['BYTES', 'BYTES', 'FP32', 'bytes']), data }] }) };
      },
      () => ({ kind: 'deep-json', method: 'POST', path: '/v1/models/pets:predict', headers: { 'content-type': 'application/json' }, body: '['.repeat(5000) + ']'.repeat(5000) }),
      () => ({ kind: 'huge-header', method: 'GET', path: '/healthz', headers: { 'x-junk': 'j'.repeat(20_000 + int(20_000)) } }),
      () => ({ kind: 'odd-request-id', method: 'GET', path: '/readyz', headers: { 'x-request-id': pick(['', ' ', 'a'.repeat(500), '<script>', 'ok-id', '\u00e9\u00e9']) } }),
      () => ({ kind: 'random-route', method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), path: pick(['/', '/predict', '/metrics', '/v1/models/pets', '/v2/models/pets/ready', '/v2', '/x/../predict', '/%', '/api/model', '/feedback', '/v2/models/pets/versions/1/infer']), headers: {} }),
      () => ({ kind: 'feedback', method: 'POST', path: '/feedback', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ predictionId: pick(['unknown', '', 'x'.repeat(2000), 'kp1.e30.AAAAAAAAAAAAAAAAAAAAAA', 'kp1..']), label: pick(['cat', 'dog', 'horse', '']) }) }),
      () => ({ kind: 'oversize', method: 'POST', path: pick(['/predict', '/v1/models/pets:predict']), headers: { 'content-type': pick(['image/jpeg', 'application/json']) }, body: new Uint8Array(1_000_001 + int(1_500_000)) }),
      () => ({ kind: 'valid', method: 'POST', path: '/predict', headers: { 'content-type': 'image/jpeg' }, body: pick(photos) }),
    ];

    const statuses = new Map<string, number>();
    const failures: string[] = [];
    let sent = 0;
    const send = async (r: FuzzRequest): Promise<void> => {
      sent++;
      try {
        const res = await fetch(`${server.url}${r.path}`, { method: r.method, headers: r.headers, ...(r.body !== undefined && r.method !== 'GET' ? { body: typeof r.body === 'string' ? r.body : new Uint8Array(r.body) } : {}) });
        const text = await res.text();
        statuses.set(`${r.kind} ${res.status}`, (statuses.get(`${r.kind} ${res.status}`) ?? 0) + 1);
        if (res.status >= 500) failures.push(`${r.kind} ${r.method} ${r.path} → ${res.status} ${text.slice(0, 200)}`);
        if (res.status >= 400 && res.status !== 431) {
          const body = JSON.parse(text) as { error?: unknown };
          if (typeof body.error !== 'string') failures.push(`${r.kind} → ${res.status} without a JSON error: ${text.slice(0, 200)}`);
        }
      } catch (err) {
        // The server may close a connection after refusing an oversized upload mid-stream.
        if (r.kind !== 'oversize') failures.push(`${r.kind} ${r.method} ${r.path} → ${(err as Error).message}`);
      }
    };
    const runBatch = async (count: number) => {
      const queue = Array.from({ length: count }, () => pick(generators)());
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let r = queue.shift(); r; r = queue.shift()) await send(r);
        }),
      );
    };
    const tensors = async () => Number((await (await fetch(`${server.url}/metrics`)).text()).match(/^kennel_serve_tfjs_tensors\{[^}]*\} (\d+)/m)?.[1]);

    await runBatch(200); // warm-up: allocators and caches settle
    const memStart = await liveMemory();
    const tensorsStart = await tensors();
    await runBatch(1000);
    const memEnd = await liveMemory();
    const tensorsEnd = await tensors();

    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(`    ${sent} requests; live JS heap + buffers ${mib(memStart.live)} → ${mib(memEnd.live)} MiB (RSS ${mib(memStart.rss)} → ${mib(memEnd.rss)}); tensors ${tensorsStart} → ${tensorsEnd}`);
    console.log(`    ${[...statuses.entries()].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    expect(failures, failures.slice(0, 10).join('\n')).to.deep.equal([]);
    expect(sent).to.be.at.least(1200);
    expect(tensorsEnd).to.equal(tensorsStart);
    // Server and client share this process: after a full GC, what is still alive must not grow.
    expect(memEnd.live - memStart.live, 'live memory growth over 1,000 requests').to.be.lessThan(16 * 2 ** 20);
    expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
    const ok = await fetch(`${server.url}/predict`, { method: 'POST', body: new Uint8Array(photos[0]!), headers: { 'content-type': 'image/jpeg' } });
    expect(ok.status).to.equal(200);
  });
});

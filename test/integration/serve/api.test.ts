import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTinyArtifact, loadPhotos, multipart, pngHeaderClaiming, requirePhotos, startTestServer, type TestServer } from './helpers.js';

const run = promisify(execFile);

describe('kennel serve: HTTP API (real server, real model, real photos)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let photos: { name: string; bytes: Buffer }[];

  before(async function () {
    requirePhotos(this);
    const art = await createTinyArtifact({ evaluation: { accuracy: 0.91, f1: 0.9, perClass: { cat: { recall: 0.9 }, dog: { recall: 0.92 } } } });
    cleanup = art.cleanup;
    server = await startTestServer(art.uri, { maxImageBytes: 2_000_000, maxJsonBytes: 4_000_000, maxInstances: 8, maxPixels: 40_000_000 });
    photos = await loadPhotos(3);
  });
  after(async () => {
    await server?.stop();
    await cleanup?.();
  });

  const post = (route: string, body: Buffer | string, contentType: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${route}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': contentType, ...headers } });
  const predictMultipart = (bytes: Buffer, headers: Record<string, string> = {}) => {
    const mp = multipart([{ field: 'file', filename: 'photo.jpg', type: 'image/jpeg', bytes }]);
    return post('/predict', mp.body, mp.contentType, headers);
  };

  it('reports health and readiness', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({ status: 'ready', model: 'pets', version: 'v7' });
  });

  it('POST /predict (multipart) answers label, confidence, every probability, model and version; logs one line', async () => {
    const res = await predictMultipart(photos[0]!.bytes, { 'x-request-id': 'req-abc-1' });
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-request-id')).to.equal('req-abc-1');
    const body = (await res.json()) as { label: string; confidence: number; probabilities: Record<string, number>; model: string; version: string; timeMs: number; requestId: string };
    expect(['cat', 'dog']).to.include(body.label);
    expect(Object.keys(body.probabilities)).to.deep.equal(['cat', 'dog']);
    const sum = Object.values(body.probabilities).reduce((a, b) => a + b, 0);
    expect(sum).to.be.closeTo(1, 1e-4);
    expect(body.confidence).to.equal(Math.max(...Object.values(body.probabilities)));
    expect(body).to.include({ model: 'pets', version: 'v7', requestId: 'req-abc-1' });
    expect(body.timeMs).to.be.a('number').and.greaterThan(0);

    const lines = server.logs.requests().filter((l) => l.requestId === 'req-abc-1');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ route: 'predict', status: 200, method: 'POST', label: body.label, confidence: body.confidence });
    expect(lines[0]!.latencyMs).to.be.a('number');
    // Never image bytes in the logs: no line anywhere near the size of a photo, no base64 runs.
    for (const raw of server.logs.raw) {
      expect(raw.length).to.be.lessThan(2000);
      expect(raw).not.to.match(/[A-Za-z0-9+/]{200,}/);
    }
  });

  it('generates a request id when the client sends none or an unsafe one', async () => {
    const a = await predictMultipart(photos[1]!.bytes);
    expect(a.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    const b = await predictMultipart(photos[1]!.bytes, { 'x-request-id': 'bad id with spaces' });
    expect(b.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('POST /predict (raw image/jpeg) gives the same answer as multipart', async () => {
    const raw = (await (await post('/predict', photos[2]!.bytes, 'image/jpeg')).json()) as { probabilities: object };
    const mp = (await (await predictMultipart(photos[2]!.bytes)).json()) as { probabilities: object };
    expect(raw.probabilities).to.deep.equal(mp.probabilities);
  });

  it('KServe v1: several instances, in order, equal to single predictions; model status', async () => {
    const chosen = photos.slice(0, 4);
    const singles = await Promise.all(chosen.map(async (p) => ((await (await post('/predict', p.bytes, 'image/jpeg')).json()) as { probabilities: object }).probabilities));
    const body = JSON.stringify({ instances: chosen.map((p, i) => (i % 2 ? { b64: p.bytes.toString('base64') } : { image_bytes: { b64: p.bytes.toString('base64') } })) });
    const res = await post('/v1/models/pets:predict', body, 'application/json');
    expect(res.status).to.equal(200);
    const out = (await res.json()) as { predictions: { label: string; probabilities: object }[] };
    expect(out.predictions.map((p) => p.probabilities)).to.deep.equal(singles);
    const status = await fetch(`${server.url}/v1/models/pets`);
    expect(await status.json()).to.deep.equal({ name: 'pets', version: 'v7', ready: true });
  });

  it('Open Inference Protocol v2: health, server and model metadata, infer with BYTES input', async () => {
    expect(await (await fetch(`${server.url}/v2/health/live`)).json()).to.deep.equal({ live: true });
    expect((await fetch(`${server.url}/v2/health/ready`)).status).to.equal(200);
    expect((await fetch(`${server.url}/v2/models/pets/ready`)).status).to.equal(200);
    const meta = (await (await fetch(`${server.url}/v2/models/pets`)).json()) as { name: string; versions: string[]; inputs: { datatype: string }[] };
    expect(meta).to.deep.include({ name: 'pets', versions: ['v7'] });
    expect(meta.inputs[0]!.datatype).to.equal('BYTES');
    const body = { id: 'inf-1', inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [photos[0]!.bytes.toString('base64'), photos[3]!.bytes.toString('base64')] }] };
    const res = await post('/v2/models/pets/infer', JSON.stringify(body), 'application/json');
    expect(res.status).to.equal(200);
    const out = (await res.json()) as { id: string; model_name: string; outputs: { name: string; shape: number[]; data: unknown[] }[] };
    expect(out).to.include({ id: 'inf-1', model_name: 'pets' });
    const byName = Object.fromEntries(out.outputs.map((o) => [o.name, o]));
    expect(byName.label!.shape).to.deep.equal([2]);
    expect(byName.probabilities!.shape).to.deep.equal([2, 2]);
    expect(byName.probabilities!.data).to.have.length(4);
  });

  describe('bad input gets the right 4xx with a JSON error, and the server keeps serving', () => {
    const truncatedJpeg = () => photos[0]!.bytes.subarray(0, Math.floor(photos[0]!.bytes.length / 3));
    const cases: { name: string; send: () => Promise<Response>; status: number; reason: string }[] = [
      { name: 'empty raw body', send: () => post('/predict', Buffer.alloc(0), 'image/jpeg'), status: 400, reason: 'EmptyBody' },
      { name: 'a file that is not an image', send: () => post('/predict', Buffer.from('hello, I am text pretending to be an image'), 'image/jpeg'), status: 415, reason: 'ImageUnsupported' },
      { name: 'a truncated JPEG', send: () => post('/predict', truncatedJpeg(), 'image/jpeg'), status: 400, reason: 'ImageCorrupt' },
      { name: 'a decompression bomb (PNG claiming 60000×60000)', send: () => post('/predict', pngHeaderClaiming(60_000, 60_000), 'image/png'), status: 413, reason: 'ImageTooManyPixels' },
      { name: 'a body over the size limit', send: () => post('/predict', Buffer.alloc(2_500_000, 1), 'image/jpeg'), status: 413, reason: 'BodyTooLarge' },
      {
        name: 'a multipart file over the size limit',
        send: () => {
          const mp = multipart([{ field: 'file', filename: 'x.jpg', type: 'image/jpeg', bytes: Buffer.alloc(2_500_000, 1) }]);
          return post('/predict', mp.body, mp.contentType);
        },
        status: 413,
        reason: 'BodyTooLarge',
      },
      { name: 'a wrong content type', send: () => post('/predict', 'just text', 'text/plain'), status: 415, reason: 'UnsupportedMediaType' },
      { name: 'multipart without a boundary', send: () => post('/predict', 'x', 'multipart/form-data'), status: 400, reason: 'MalformedMultipart' },
      {
        name: 'multipart without the file field',
        send: () => {
          const mp = multipart([{ field: 'other', filename: 'x.jpg', type: 'image/jpeg', bytes: photos[0]!.bytes }]);
          return post('/predict', mp.body, mp.contentType);
        },
        status: 400,
        reason: 'MissingFile',
      },
      {
        name: 'multipart with two files',
        send: () => {
          const part = { field: 'file', filename: 'x.jpg', type: 'image/jpeg', bytes: photos[0]!.bytes };
          const mp = multipart([part, part]);
          return post('/predict', mp.body, mp.contentType);
        },
        status: 400,
        reason: 'TooManyFiles',
      },
      { name: 'malformed JSON', send: () => post('/v1/models/pets:predict', '{"instances": [', 'application/json'), status: 400, reason: 'MalformedJson' },
      { name: 'JSON of the wrong shape', send: () => post('/v1/models/pets:predict', '{"instances": "nope"}', 'application/json'), status: 400, reason: 'InvalidRequest' },
      { name: 'malformed base64', send: () => post('/v1/models/pets:predict', '{"instances": [{"b64": "***not base64***"}]}', 'application/json'), status: 400, reason: 'MalformedBase64' },
      { name: 'too many instances', send: () => post('/v1/models/pets:predict', JSON.stringify({ instances: Array.from({ length: 9 }, () => ({ b64: 'AAAA' })) }), 'application/json'), status: 400, reason: 'TooManyInstances' },
      { name: 'an unknown model name (v1)', send: () => post('/v1/models/horses:predict', '{"instances":[{"b64":"AAAA"}]}', 'application/json'), status: 404, reason: 'ModelNotFound' },
      { name: 'an unknown model name (v2)', send: () => post('/v2/models/horses/infer', '{}', 'application/json'), status: 404, reason: 'ModelNotFound' },
      { name: 'a v2 shape that does not match the data', send: () => post('/v2/models/pets/infer', JSON.stringify({ inputs: [{ name: 'image', shape: [3], datatype: 'BYTES', data: ['AAAA'] }] }), 'application/json'), status: 400, reason: 'InvalidRequest' },
      { name: 'a v2 input of the wrong datatype', send: () => post('/v2/models/pets/infer', JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'FP32', data: [1] }] }), 'application/json'), status: 400, reason: 'InvalidRequest' },
      { name: 'an unknown route', send: () => fetch(`${server.url}/nope`), status: 404, reason: 'RouteNotFound' },
      { name: 'a wrong method', send: () => fetch(`${server.url}/predict`), status: 405, reason: 'MethodNotAllowed' },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.reason}`, async () => {
        const res = await c.send();
        expect(res.status).to.equal(c.status);
        expect(res.headers.get('content-type')).to.match(/application\/json/);
        const body = (await res.json()) as { error: string; reason: string };
        expect(body.error).to.be.a('string').with.length.greaterThan(0);
        expect(body.reason).to.equal(c.reason);
        // ...and the next good request is still answered.
        expect((await post('/predict', photos[1]!.bytes, 'image/jpeg')).status).to.equal(200);
      });
    }
  });

  it('feedback: takes the signed predictionId of each answer; counts correct and wrong per true class; forged or malformed id 400, repeat 409, bad label 400', async () => {
    const first = (await (await predictMultipart(photos[0]!.bytes, { 'x-request-id': 'fb-1' })).json()) as { label: string; predictionId: string };
    const second = (await (await predictMultipart(photos[1]!.bytes, { 'x-request-id': 'fb-2' })).json()) as { label: string; predictionId: string };
    expect(first.predictionId).to.match(/^kp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    const other = (l: string) => (l === 'cat' ? 'dog' : 'cat');
    const send = (predictionId: string, label: string) => post('/feedback', JSON.stringify({ predictionId, label }), 'application/json');
    const ok = await send(first.predictionId, first.label);
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.include({ correct: true, predicted: first.label, model: 'pets', version: 'v7', logged: false });
    const wrong = await send(second.predictionId, other(second.label));
    expect(await wrong.json()).to.deep.include({ correct: false });
    expect((await send(first.predictionId, first.label)).status).to.equal(409);
    // A forged id: the payload of one prediction with the signature of another.
    const [, payload] = first.predictionId.split('.');
    const forged = await send(`kp1.${payload}.${second.predictionId.split('.')[2]}`, 'cat');
    expect(forged.status).to.equal(400);
    expect(await forged.json()).to.include({ reason: 'InvalidPredictionId' });
    expect((await send('never-seen', 'cat')).status).to.equal(400);
    expect((await send(second.predictionId, 'horse')).status).to.equal(400);
    // KServe v1 and Open Inference v2 answers carry one id per image, each usable as feedback.
    const b64 = photos[2]!.bytes.toString('base64');
    const v1 = (await (await post('/v1/models/pets:predict', JSON.stringify({ instances: [{ b64 }, { b64 }] }), 'application/json')).json()) as { predictions: { predictionId: string; label: string }[] };
    expect(new Set(v1.predictions.map((p) => p.predictionId)).size).to.equal(2);
    const v2 = (await (await post('/v2/models/pets/infer', JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [b64] }] }), 'application/json')).json()) as { outputs: { name: string; data: string[] }[] };
    const v2id = v2.outputs.find((o) => o.name === 'prediction_id')?.data[0] as string;
    expect((await send(v1.predictions[1]!.predictionId, 'dog')).status).to.equal(200);
    expect((await send(v2id, 'cat')).status).to.equal(200);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const count = (cls: string, outcome: string) => {
      const m = text.match(new RegExp(`^kennel_serve_feedback_total\\{[^}]*class="${cls}"[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'm'));
      return Number(m?.[1]);
    };
    expect(count(first.label, 'correct')).to.be.at.least(1);
    expect(count(other(second.label), 'wrong')).to.be.at.least(1);
    expect(text).to.match(/^kennel_serve_baseline_accuracy\{model="pets",version="v7"\} 0.91$/m);
  });

  it('/metrics: kennel_-prefixed, model and version on every series, zeroed series, and promtool check metrics passes', async function () {
    expect((await post('/predict', pngHeaderClaiming(60_000, 60_000), 'image/png')).status).to.equal(413);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples.length).to.be.greaterThan(50);
    for (const s of samples) {
      expect(s).to.match(/^kennel_/);
      expect(s).to.include('model="pets"').and.include('version="v7"');
    }
    for (const name of ['kennel_serve_requests_total', 'kennel_serve_request_duration_seconds_bucket', 'kennel_serve_predictions_total', 'kennel_serve_prediction_confidence_bucket', 'kennel_serve_errors_total', 'kennel_serve_model_loaded', 'kennel_serve_feedback_total', 'kennel_serve_batch_size_bucket', 'kennel_serve_tfjs_tensors']) {
      expect(text, name).to.include(`${name}{`);
    }
    expect(text).to.match(/^kennel_serve_model_loaded\{model="pets",version="v7"\} 1$/m);
    expect(text).to.match(/^kennel_serve_errors_total\{[^}]*reason="Overloaded"[^}]*\} 0$/m);
    expect(text).to.match(/^kennel_serve_predictions_total\{[^}]*class="cat"[^}]*\} \d+$/m);
    expect(text).to.match(/^kennel_serve_errors_total\{[^}]*reason="ImageTooManyPixels"[^}]*\} [1-9]/m);

    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-metrics-'));
    try {
      const file = path.join(dir, 'metrics.txt');
      await writeFile(file, text);
      let out: { stdout: string; stderr: string };
      try {
        out = await run('sh', ['-c', `promtool check metrics < ${file}`]);
      } catch (err) {
        const e = err as { code?: unknown; stdout?: string; stderr?: string };
        if (e.code === 127) {
          console.log('    skipped: promtool not installed (apt-get install -y prometheus)');
          this.skip();
        }
        throw new Error(`promtool check metrics failed:\n${e.stdout}\n${e.stderr}`);
      }
      expect(out.stdout + out.stderr).to.equal('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

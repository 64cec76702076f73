/**
 * The prediction log and feedback across replicas, on real parts: real `kennel serve` instances
 * (in-process and as child processes), a real file:// log and fake-gcs-server as gs://, with a
 * faulty proxy in front of it for storage outages. What is claimed and checked:
 *  - two servers sharing `--prediction-log` accept each other's feedback with no other setup;
 *  - every answered prediction and every acknowledged feedback is in the log after SIGTERM,
 *    after a storage outage shorter than the buffer, and a longer outage drops only what the
 *    metrics count as dropped;
 *  - logging does not slow predictions while storage is down.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Storage as GcsClient } from '@google-cloud/storage';
import sharp from 'sharp';
import { parseBatch, type FeedbackRecord, type PredictionRecord } from '../../../src/shared/prediction-log/records.js';
import { createFileStorage, storageFor, type Storage } from '../../../src/shared/storage/index.js';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';
import { startFlakyProxy, type FlakyProxy } from '../worker/flaky-proxy.js';
import { createTinyArtifact, spawnServe, startTestServer, waitFor, type TestServer } from './helpers.js';

/** Small JPEGs of random pixels, so every image has its own sha256. */
async function images(n: number): Promise<Buffer[]> {
  return Promise.all(Array.from({ length: n }, () => sharp(randomBytes(40 * 30 * 3), { raw: { width: 40, height: 30, channels: 3 } }).jpeg().toBuffer()));
}

async function readStream<S extends 'predictions' | 'feedback'>(storage: Storage, log: string, stream: S): Promise<(S extends 'predictions' ? PredictionRecord : FeedbackRecord)[]> {
  const out: (S extends 'predictions' ? PredictionRecord : FeedbackRecord)[] = [];
  for (const o of (await storage.list(`${log}/${stream}`)).filter((e) => e.name.endsWith('.jsonl'))) {
    const { records, invalid } = parseBatch(stream, (await storage.read(o.uri)).toString('utf8'));
    expect(invalid, o.name).to.equal(0);
    out.push(...(records as (S extends 'predictions' ? PredictionRecord : FeedbackRecord)[]));
  }
  return out;
}

const predict = async (url: string, image: Buffer): Promise<{ status: number; predictionId: string; label: string; ms: number }> => {
  const t = Date.now();
  const res = await fetch(`${url}/predict`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/jpeg' } });
  const body = (await res.json()) as { predictionId: string; label: string };
  return { status: res.status, ...body, ms: Date.now() - t };
};
const feedback = async (url: string, predictionId: string, label: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${url}/feedback`, { method: 'POST', body: JSON.stringify({ predictionId, label }), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
/** The sum of the series of `name` that carry `labels`. */
const metric = async (url: string, name: string, labels: Record<string, string>): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  if (lines.length === 0) return NaN;
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
};
const other = (label: string) => (label === 'cat' ? 'dog' : 'cat');

describe('kennel serve: prediction log and feedback across replicas', function () {
  this.timeout(180_000);
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('two servers with the same --prediction-log accept each other\'s feedback; every prediction, feedback and sampled image is in the log after shutdown', async () => {
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-plog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const log = `${pathToFileURL(dir).href}/pets`;
    // Two versions of the model sharing one log, as during a rollout.
    const a = await startTestServer(art.uri, { predictionLog: log, imageSampleRate: 1, modelVersion: '7' });
    const b = await startTestServer(art.uri, { predictionLog: log, imageSampleRate: 1, modelVersion: '8', logFlushSeconds: 60 });
    const imgs = await images(12);
    const answers = await Promise.all(imgs.map((img, i) => predict(i % 2 === 0 ? a.url : b.url, img)));
    expect(answers.every((r) => r.status === 200)).to.equal(true);
    // Feedback on each prediction goes to the *other* server; half of them corrections.
    const verdicts = await Promise.all(answers.map((r, i) => feedback(i % 2 === 0 ? b.url : a.url, r.predictionId, i % 3 === 0 ? other(r.label) : r.label)));
    expect(verdicts.map((v) => v.status)).to.deep.equal(answers.map(() => 200));
    verdicts.forEach((v, i) => expect(v.body).to.include({ version: i % 2 === 0 ? '7' : '8', logged: true, correct: i % 3 !== 0 }));
    // Live accuracy sums over replicas: server b counted version 7's feedback, a counted 8's.
    expect(await metric(b.url, 'kennel_serve_feedback_total', { version: '7', outcome: 'wrong' })).to.be.greaterThan(0);
    expect(await metric(a.url, 'kennel_serve_feedback_total', { version: '7', outcome: 'wrong' })).to.equal(0);
    await Promise.all([a.stop(), b.stop()]);

    const storage = createFileStorage();
    const predictions = await readStream(storage, log, 'predictions');
    const feedbacks = await readStream(storage, log, 'feedback');
    const ids = (id: string) => id.split('.')[1];
    expect(predictions).to.have.length(12);
    expect(feedbacks).to.have.length(12);
    const byId = new Map(predictions.map((p) => [p.id, p]));
    for (const [i, r] of answers.entries()) {
      const payload = JSON.parse(Buffer.from(ids(r.predictionId) as string, 'base64url').toString()) as { i: string };
      const rec = byId.get(payload.i);
      expect(rec, `prediction ${i}`).to.not.equal(undefined);
      expect(rec).to.deep.include({ label: r.label, version: i % 2 === 0 ? '7' : '8', model: 'pets' });
      expect(rec?.image.stored).to.equal(`images/${rec?.image.sha256}`);
      expect((await storage.read(`${log}/${rec?.image.stored}`)).equals(imgs[i] as Buffer)).to.equal(true);
    }
    for (const f of feedbacks) expect(byId.get(f.id)?.image.sha256).to.equal(f.image.sha256);
    // Batches of each writer are named by time, writer and sequence.
    const names = (await storage.list(`${log}/predictions`)).map((e) => e.name);
    expect(names.every((n) => /^\d{4}-\d{2}-\d{2}\/\d{2}\/\d{8}T\d{6}\.\d{3}Z-[A-Za-z0-9.-]+-\d{6}\.jsonl$/.test(n))).to.equal(true);
  });

  it('an unsure answer (label null, below --min-confidence) is logged as label null beside its top class; feedback on it is accepted and judged against the top class', async () => {
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-plog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const log = `${pathToFileURL(dir).href}/pets`;
    // The tiny untrained model answers near 0.5: below 0.99 every answer is unsure.
    const server = await startTestServer(art.uri, { predictionLog: log, minConfidence: 0.99 });
    const imgs = await images(4);
    const answers = await Promise.all(
      imgs.map(async (img) => {
        const res = await fetch(`${server.url}/predict`, { method: 'POST', body: new Uint8Array(img), headers: { 'content-type': 'image/jpeg' } });
        expect(res.status).to.equal(200);
        return (await res.json()) as { label: string | null; probabilities: Record<string, number>; predictionId: string };
      }),
    );
    const tops = answers.map((a) => (Object.entries(a.probabilities).sort((x, y) => y[1] - x[1])[0] as [string, number])[0]);
    answers.forEach((a) => expect(a.label).to.equal(null));
    // Half confirm the top class, half correct it.
    const verdicts = await Promise.all(answers.map((a, i) => feedback(server.url, a.predictionId, i % 2 === 0 ? (tops[i] as string) : other(tops[i] as string))));
    verdicts.forEach((v, i) => {
      expect(v.status, JSON.stringify(v.body)).to.equal(200);
      expect(v.body).to.include({ predicted: tops[i], unsure: true, correct: i % 2 === 0 });
    });
    expect(await metric(server.url, 'kennel_serve_unsure_predictions_total', {})).to.equal(4);
    expect(await metric(server.url, 'kennel_serve_feedback_total', { outcome: 'correct' })).to.equal(2);
    await server.stop();

    const storage = createFileStorage();
    const predictions = await readStream(storage, log, 'predictions');
    const feedbacks = await readStream(storage, log, 'feedback');
    expect(predictions).to.have.length(4);
    expect(predictions.map((p) => p.label)).to.deep.equal([null, null, null, null]);
    const nonce = (id: string): string => (JSON.parse(Buffer.from(id.split('.')[1] as string, 'base64url').toString()) as { i: string }).i;
    answers.forEach((a, i) => expect(predictions.find((p) => p.id === nonce(a.predictionId))).to.deep.include({ label: null, top: tops[i] }));
    expect(feedbacks).to.have.length(4);
    for (const f of feedbacks) expect(f).to.deep.include({ unsure: true, predicted: predictions.find((p) => p.id === f.id)?.top });
  });

  it('SIGTERM flushes the log before exiting: nothing acknowledged is lost, even with a long flush interval (child processes)', async () => {
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    const dir = await mkdtemp(path.join(tmpdir(), 'kennel-plog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const log = pathToFileURL(dir).href;
    const args = ['--model', art.uri, '--workers', '1', '--prediction-log', log, '--log-flush-seconds', '300', '--image-sample-rate', '0'];
    const [one, two] = await Promise.all([spawnServe(args), spawnServe(args)]);
    cleanups.push(async () => {
      for (const c of [one, two]) if (c?.proc.exitCode === null) c.proc.kill('SIGKILL');
    });
    await Promise.all([one, two].map((c) => waitFor(async () => (await fetch(`${c!.url}/readyz`)).ok, 90_000)));
    const imgs = await images(20);
    const answers = await Promise.all(imgs.map((img, i) => predict(i % 2 ? one!.url : two!.url, img)));
    const verdicts = await Promise.all(answers.map((r, i) => feedback(i % 2 ? two!.url : one!.url, r.predictionId, 'dog')));
    expect(verdicts.every((v) => v.status === 200), JSON.stringify(verdicts.find((v) => v.status !== 200))).to.equal(true);
    // Nothing written yet: the flush interval is 5 minutes (feedback: 1 s).
    expect(await createFileStorage().list(`${log}/predictions`)).to.have.length(0);
    one!.proc.kill('SIGTERM');
    two!.proc.kill('SIGTERM');
    expect(await one!.exit).to.equal(0);
    expect(await two!.exit).to.equal(0);
    const predictions = await readStream(createFileStorage(), log, 'predictions');
    const feedbacks = await readStream(createFileStorage(), log, 'feedback');
    expect(predictions).to.have.length(20);
    expect(feedbacks).to.have.length(20);
    expect(new Set(feedbacks.map((f) => f.id))).to.deep.equal(new Set(predictions.map((p) => p.id)));
    expect([one, two].every((c) => c!.lines.some((l) => l.msg === 'prediction log flushed'))).to.equal(true);
  });

  describe('on gs:// (fake-gcs-server behind a faulty proxy)', () => {
    let gcs: FakeGcs;
    let proxy: FlakyProxy;
    let logStorage: Storage;
    const BUCKET = 'kennel-plog';
    before(async () => {
      gcs = await startFakeGcs();
      await new GcsClient({ apiEndpoint: gcs.endpoint, projectId: 'test' }).createBucket(BUCKET);
      proxy = await startFlakyProxy(gcs.endpoint);
      logStorage = storageFor(`gs://${BUCKET}/x`, { env: { KENNEL_GCS_AUTH: 'emulator', KENNEL_GCS_ENDPOINT: proxy.endpoint }, gcsRetry: { maxRetries: 1, retryDelayMultiplier: 1.1, maxRetryDelay: 1, totalTimeout: 5 } });
    });
    after(async () => {
      await proxy?.close();
      await gcs?.stop();
    });
    const start = async (log: string, flags: Record<string, string | number>): Promise<TestServer> => {
      const art = await createTinyArtifact();
      cleanups.push(art.cleanup);
      return startTestServer(art.uri, { predictionLog: log, logFlushSeconds: 0.2, ...flags }, { logStorage });
    };

    it('a storage outage shorter than the buffer loses nothing and slows no prediction', async () => {
      const log = `gs://${BUCKET}/short-outage`;
      const server = await start(log, { imageSampleRate: 1 });
      const before = await Promise.all((await images(10)).map((img) => predict(server.url, img)));
      await waitFor(async () => (await metric(server.url, 'kennel_serve_prediction_log_written_total', { stream: 'predictions' })) === 10, 10_000);
      const baselineMs = Math.max(...before.map((r) => r.ms));
      proxy.outage(503);
      const during: Awaited<ReturnType<typeof predict>>[] = [];
      for (const img of await images(30)) during.push(await predict(server.url, img));
      const fb = await Promise.all(during.slice(0, 10).map((r) => feedback(server.url, r.predictionId, other(r.label))));
      expect(fb.every((f) => f.status === 200)).to.equal(true);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await metric(server.url, 'kennel_serve_prediction_log_write_errors_total', { stream: 'predictions' })).to.be.greaterThan(0);
      expect(await metric(server.url, 'kennel_serve_prediction_log_buffered_bytes', { stream: 'predictions' })).to.be.greaterThan(0);
      expect(during.every((r) => r.status === 200)).to.equal(true);
      const worst = Math.max(...during.map((r) => r.ms));
      console.log(`    slowest prediction before the outage ${baselineMs} ms, during it ${worst} ms`);
      expect(worst).to.be.below(Math.max(1000, baselineMs * 5));
      proxy.restore();
      await waitFor(async () => (await metric(server.url, 'kennel_serve_prediction_log_written_total', { stream: 'predictions' })) === 40, 30_000);
      await server.stop();
      const predictions = await readStream(logStorage, log, 'predictions');
      expect(predictions.map((p) => p.id).sort()).to.have.length(40);
      expect(new Set(predictions.map((p) => p.id)).size).to.equal(40);
      expect(await readStream(logStorage, log, 'feedback')).to.have.length(10);
      expect((await logStorage.list(`${log}/images`)).length).to.equal(40);
    });

    it('an outage longer than the buffer drops only what it counts as dropped, and writes everything else once storage is back', async () => {
      const log = `gs://${BUCKET}/long-outage`;
      const server = await start(log, { logBufferBytes: 4096 });
      proxy.outage(503);
      const answers: Awaited<ReturnType<typeof predict>>[] = [];
      for (const img of await images(40)) answers.push(await predict(server.url, img));
      expect(answers.every((r) => r.status === 200)).to.equal(true);
      const dropped = await metric(server.url, 'kennel_serve_prediction_log_dropped_total', { stream: 'predictions', reason: 'buffer_full' });
      const appended = await metric(server.url, 'kennel_serve_prediction_log_appended_total', { stream: 'predictions' });
      expect(dropped).to.be.greaterThan(0);
      expect(appended + dropped).to.equal(40);
      proxy.restore();
      await server.stop();
      const predictions = await readStream(logStorage, log, 'predictions');
      expect(predictions).to.have.length(appended);
      // The records kept are the first ones; the dropped ones are the newest.
      const keptIds = new Set(predictions.map((p) => p.id));
      const answeredIds = answers.map((r) => (JSON.parse(Buffer.from(r.predictionId.split('.')[1] as string, 'base64url').toString()) as { i: string }).i);
      expect(answeredIds.slice(0, appended).every((id) => keptIds.has(id))).to.equal(true);
    });
  });
});

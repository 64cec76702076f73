import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { pino } from 'pino';
import { createManualClock } from '../../shared/clock.js';
import type { PodWire } from '../shared/wire.js';
import { checkpointIntervalMs, createCanaryAnalyzer, thinCheckpoints } from './canary-analyzer.js';
import { decodeCheckpoints, encodeCheckpoints, type CanaryKey, type Checkpoint, type CheckpointStore } from './canary-checkpoints.js';
import { emptySnapshot } from './canary-metrics.js';

const STARTED = '2026-04-01T12:00:00Z';

/** A store that keeps the encoded annotation text, as the Deployment would (and counts writes). */
function annotationStore(): CheckpointStore & { text?: string; writes: number } {
  const store: CheckpointStore & { text?: string; writes: number } = {
    writes: 0,
    load: (key) => (store.text ? decodeCheckpoints(key, store.text) : []),
    async save(key, checkpoints) {
      store.writes++;
      store.text = encodeCheckpoints(key, checkpoints);
    },
    async clear() {
      delete store.text;
    },
  };
  return store;
}

/** A canary pod's /metrics on loopback (a real HTTP server): `requests` predictions answered so far. */
async function metricsServer(): Promise<{ server: Server; port: number; setRequests(n: number): void }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`kennel_serve_requests_total{model="pets",version="2",route="predict",status="200"} ${requests}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, setRequests: (n) => (requests = n) };
}

const readyPod: PodWire = { metadata: { name: 'p' }, status: { podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } };

describe('canary analyzer', () => {
  let pod: Awaited<ReturnType<typeof metricsServer>>;
  beforeEach(async () => {
    pod = await metricsServer();
  });
  afterEach(() => pod.server.close());

  it('measures within the window, and forgetting the InferenceService drops its canary\'s history', async () => {
    const clock = createManualClock(1_000_000);
    const analyzer = createCanaryAnalyzer({ clock, logger: pino({ level: 'silent' }), port: pod.port });
    const key = { service: 'ns/pets', modelVersion: 'pets-v2', startedAt: STARTED };
    pod.setRequests(10);
    expect((await analyzer.measure(key, [readyPod], 60_000))?.requests).to.equal(10);
    clock.advance(60_000);
    pod.setRequests(25);
    expect((await analyzer.measure(key, [readyPod], 60_000))?.requests, 'the window: 25 - 10').to.equal(15);
    expect(analyzer.size()).to.equal(1);

    // What the reconciler calls when the InferenceService is deleted, or its rollout ends.
    analyzer.forget('ns/pets');
    expect(analyzer.size(), 'nothing is kept for a deleted service').to.equal(0);
    clock.advance(60_000);
    pod.setRequests(30);
    expect((await analyzer.measure(key, [readyPod], 60_000))?.requests, 'measured afresh: no window start remembered').to.equal(30);
  });

  it('keeps one canary per service: a new version on trial starts afresh', async () => {
    const clock = createManualClock(1_000_000);
    const analyzer = createCanaryAnalyzer({ clock, logger: pino({ level: 'silent' }), port: pod.port });
    pod.setRequests(10);
    await analyzer.measure({ service: 'ns/pets', modelVersion: 'pets-v2', startedAt: STARTED }, [readyPod], 60_000);
    clock.advance(60_000);
    pod.setRequests(12);
    expect((await analyzer.measure({ service: 'ns/pets', modelVersion: 'pets-v3', startedAt: STARTED }, [readyPod], 60_000))?.requests).to.equal(12);
    expect(analyzer.size()).to.equal(1);
  });

  it('a new analyzer (a new leader) resumes the window from the checkpoints kept in the cluster', async () => {
    const clock = createManualClock(1_000_000);
    const store = annotationStore();
    const key = { service: 'ns/pets', modelVersion: 'pets-v2', startedAt: STARTED };
    const leader = createCanaryAnalyzer({ clock, logger: pino({ level: 'silent' }), port: pod.port, store });
    // 40 s window: a checkpoint at most every 10 s. Measured every 5 s by the first leader.
    for (let t = 0; t <= 30_000; t += 5_000) {
      pod.setRequests(100 + t / 1000);
      await leader.measure(key, [readyPod], 40_000);
      clock.advance(5_000);
    }
    expect(store.writes, 'one write per checkpoint interval, not per measurement').to.equal(4);
    // The leader dies after its measurement at t = 30 s; its successor first measures at t = 50 s.
    clock.advance(15_000);
    pod.setRequests(150);
    const successor = createCanaryAnalyzer({ clock, logger: pino({ level: 'silent' }), port: pod.port, store });
    const sample = await successor.measure(key, [readyPod], 40_000);
    // The window's start is the checkpoint of t = 10 s (110 requests), not the pods' start.
    expect(sample?.requests).to.equal(40);
    // A memory-only analyzer would have judged everything since the pods started.
    const amnesiac = createCanaryAnalyzer({ clock, logger: pino({ level: 'silent' }), port: pod.port });
    expect((await amnesiac.measure(key, [readyPod], 40_000))?.requests).to.equal(150);
  });

  it('checkpoints of another rollout of the version, or malformed ones, are not used', async () => {
    const clock = createManualClock(1_000_000);
    const store = annotationStore();
    const old: CanaryKey = { service: 'ns/pets', modelVersion: 'pets-v2', startedAt: '2026-03-01T00:00:00Z' };
    await store.save(old, [{ at: 900_000, snapshot: { ...emptySnapshot(), requests: 5 } }]);
    pod.setRequests(20);
    const analyzer = createCanaryAnalyzer({ clock, logger: pino({ level: 'silent' }), port: pod.port, store });
    expect((await analyzer.measure({ ...old, startedAt: STARTED }, [readyPod], 60_000))?.requests).to.equal(20);
    expect(() => decodeCheckpoints(old, '{"modelVersion":"pets-v2","startedAt":"2026-03-01T00:00:00Z","points":[{"at":-1}]}')).to.throw('point 0 is malformed');
  });

  it('checkpoints survive the trip through the annotation, +Inf bucket included', () => {
    const key = { service: 'ns/pets', modelVersion: 'pets-v2', startedAt: STARTED };
    const snapshot = { requests: 7, errors: 1, latencyBuckets: new Map([[0.1, 5], [Infinity, 7]]), confidenceSum: 5.5, confidenceCount: 6 };
    const list: Checkpoint[] = [{ at: 2, snapshot }, { at: 1, snapshot: emptySnapshot() }];
    expect(decodeCheckpoints(key, encodeCheckpoints(key, list))).to.deep.equal([list[1], list[0]]);
  });

  it('thinning keeps the oldest, one per interval and the newest', () => {
    const at = (ms: number): Checkpoint => ({ at: ms, snapshot: emptySnapshot() });
    expect(thinCheckpoints([0, 3, 6, 9, 12, 13].map(at), 5).map((c) => c.at)).to.deep.equal([0, 6, 12, 13]);
    expect(checkpointIntervalMs(60_000)).to.equal(15_000);
    expect(checkpointIntervalMs(10_000)).to.equal(5_000);
  });
});

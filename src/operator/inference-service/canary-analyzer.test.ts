import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { pino } from 'pino';
import { createManualClock } from '../../shared/clock.js';
import type { PodWire } from '../shared/wire.js';
import { createCanaryAnalyzer } from './canary-analyzer.js';

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
    const key = { service: 'ns/pets', modelVersion: 'pets-v2' };
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
    await analyzer.measure({ service: 'ns/pets', modelVersion: 'pets-v2' }, [readyPod], 60_000);
    clock.advance(60_000);
    pod.setRequests(12);
    expect((await analyzer.measure({ service: 'ns/pets', modelVersion: 'pets-v3' }, [readyPod], 60_000))?.requests).to.equal(12);
    expect(analyzer.size()).to.equal(1);
  });
});

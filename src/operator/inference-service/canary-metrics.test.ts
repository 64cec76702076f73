import { expect } from 'chai';
import { Counter, Histogram, Registry } from 'prom-client';
import { diffSnapshots, histogramQuantile, parseServeMetrics, sampleOf } from './canary-metrics.js';

/** Real prom-client output with kennel serve's metric names, as a canary pod would answer. */
async function serveMetrics(observe: (m: { requests: Counter; latency: Histogram; confidence: Histogram }) => void): Promise<string> {
  const registry = new Registry();
  const labelNames = ['model', 'version', 'route', 'status'];
  const m = {
    requests: new Counter({ name: 'kennel_serve_requests_total', help: 'x', labelNames, registers: [registry] }),
    latency: new Histogram({ name: 'kennel_serve_request_duration_seconds', help: 'x', labelNames: ['model', 'version', 'route'], buckets: [0.05, 0.1, 0.25, 1], registers: [registry] }),
    confidence: new Histogram({ name: 'kennel_serve_prediction_confidence', help: 'x', labelNames: ['model', 'version'], buckets: [0.5, 0.9, 1], registers: [registry] }),
  };
  observe(m);
  return registry.metrics();
}

describe('canary metrics', () => {
  it('sums predict requests and errors, ignores probes, and reads latency and confidence', async () => {
    const text = await serveMetrics(({ requests, latency, confidence }) => {
      const l = { model: 'pets', version: '2' };
      requests.inc({ ...l, route: 'predict', status: '200' }, 90);
      requests.inc({ ...l, route: 'v2_infer', status: '500' }, 10);
      requests.inc({ ...l, route: 'readyz', status: '200' }, 1000);
      for (let i = 0; i < 100; i++) latency.observe({ ...l, route: 'predict' }, i < 90 ? 0.04 : 0.2);
      for (let i = 0; i < 10; i++) latency.observe({ ...l, route: 'readyz' }, 5);
      for (let i = 0; i < 4; i++) confidence.observe(l, 0.8);
    });
    const s = parseServeMetrics(text);
    expect(s.requests).to.equal(100);
    expect(s.errors).to.equal(10);
    const sample = sampleOf(s);
    expect(sample.meanConfidence).to.be.closeTo(0.8, 1e-9);
    // 95th of 100: rank 95 falls in (0.1, 0.25] holding 10 observations from 90 → 0.1 + 0.15·5/10.
    expect(sample.p95LatencyMs).to.be.closeTo(175, 1e-6);
  });

  it('measures a window as the difference of two snapshots', async () => {
    const before = parseServeMetrics(await serveMetrics(({ requests }) => requests.inc({ model: 'm', version: '1', route: 'predict', status: '200' }, 5)));
    const after = parseServeMetrics(
      await serveMetrics(({ requests }) => {
        requests.inc({ model: 'm', version: '1', route: 'predict', status: '200' }, 8);
        requests.inc({ model: 'm', version: '1', route: 'predict', status: '503' }, 2);
      }),
    );
    const d = diffSnapshots(after, before);
    expect(d.requests).to.equal(5);
    expect(d.errors).to.equal(2);
  });

  it('has no quantile without observations', () => {
    expect(histogramQuantile(0.95, new Map([[Infinity, 0]]))).to.equal(undefined);
  });
});

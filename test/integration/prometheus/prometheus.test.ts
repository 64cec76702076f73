/**
 * The test harness's real Prometheus (Debian's package), configured from a PodMonitoring, scrapes
 * a real HTTP server exposing a counter, and a PromQL query returns its value.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Counter, Registry } from 'prom-client';
import { DEFAULT_PROMETHEUS_BINARY, startPrometheus, type Prometheus } from '../../harness/prometheus.js';
import type { PodLike, PodMonitoringLike } from '../../harness/prometheus-config.js';

describe('test harness: Prometheus from a PodMonitoring', function () {
  this.timeout(60_000);
  let server: Server | undefined;
  let prometheus: Prometheus | undefined;

  before(function () {
    if (!existsSync(DEFAULT_PROMETHEUS_BINARY)) {
      console.log(`    skipped: ${DEFAULT_PROMETHEUS_BINARY} not found (apt-get install -y prometheus)`);
      this.skip();
    }
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('scrapes the selected pods on the PodMonitoring port and path, and query() returns the counter', async () => {
    const registry = new Registry();
    const predictions = new Counter({ name: 'test_predictions_total', help: 'predictions', labelNames: ['class'], registers: [registry] });
    predictions.inc({ class: 'cat' }, 7);
    predictions.inc({ class: 'dog' }, 3);
    let scrapedPath = '';
    server = createServer((req, res) => {
      scrapedPath = req.url ?? '';
      void registry.metrics().then((text) => {
        res.setHeader('content-type', registry.contentType);
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const pm: PodMonitoringLike = {
      metadata: { name: 'pets', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'pets' } }, endpoints: [{ port: 'metrics', path: '/custom-metrics', interval: '1s' }] },
    };
    const pods: PodLike[] = [
      {
        metadata: { name: 'pets-0', namespace: 'default', labels: { app: 'pets' } },
        spec: { containers: [{ name: 'server', ports: [{ name: 'metrics', containerPort: port }] }] },
        status: { phase: 'Running', podIP: '127.0.0.1' },
      },
      {
        // Not selected: a scrape of it would fail and show up as a down target.
        metadata: { name: 'other-0', namespace: 'default', labels: { app: 'other' } },
        spec: { containers: [{ name: 'server', ports: [{ name: 'metrics', containerPort: 1 }] }] },
        status: { phase: 'Running', podIP: '127.0.0.1' },
      },
    ];
    prometheus = await startPrometheus({ podMonitorings: [pm], discovery: { kind: 'static', pods } });

    const samples = await prometheus.waitForQuery('sum by (class) (test_predictions_total)', (s) => s.length === 2, { timeoutMs: 30_000 });
    expect(Object.fromEntries(samples.map((s) => [s.metric.class, s.value]))).to.deep.equal({ cat: 7, dog: 3 });
    expect(scrapedPath).to.equal('/custom-metrics');

    const [series] = await prometheus.query('test_predictions_total{class="cat"}');
    expect(series?.metric).to.include({ job: 'PodMonitoring/default/pets/metrics', namespace: 'default', pod: 'pets-0', container: 'server', instance: `127.0.0.1:${port}` });
    const targets = await prometheus.targets();
    expect(targets.map((t) => t.labels.pod)).to.deep.equal(['pets-0']);
    expect(targets[0]?.health).to.equal('up');

    predictions.inc({ class: 'dog' }, 5);
    await prometheus.waitForQuery('test_predictions_total{class="dog"}', (s) => s[0]?.value === 8, { timeoutMs: 15_000 });
  });

  it('follows the pods a lister returns, reloading when they change (followPods)', async () => {
    if (!server) throw new Error('needs the first test');
    const port = (server.address() as AddressInfo).port;
    const pm: PodMonitoringLike = {
      metadata: { name: 'pets', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'pets' } }, endpoints: [{ port: 'metrics', path: '/custom-metrics', interval: '1s' }] },
    };
    let names = ['pets-a'];
    const pod = (name: string): PodLike => ({
      metadata: { name, namespace: 'default', labels: { app: 'pets' } },
      spec: { containers: [{ name: 'server', ports: [{ name: 'metrics', containerPort: port }] }] },
      status: { phase: 'Running', podIP: '127.0.0.1' },
    });
    const follower = await startPrometheus({ podMonitorings: [pm], followPods: { list: async () => names.map(pod), refreshMs: 200 } });
    try {
      await follower.waitForQuery('up{pod="pets-a"}', (x) => x[0]?.value === 1, { timeoutMs: 20_000 });
      names = ['pets-b'];
      await follower.waitForQuery('up{pod="pets-b"}', (x) => x[0]?.value === 1, { timeoutMs: 20_000 });
      expect((await follower.targets()).map((t) => t.labels.pod)).to.deep.equal(['pets-b']);
    } finally {
      await follower.stop();
    }
  });

  it('fails fast with Prometheus\'s own message when the config is refused (Debian\'s build has no Kubernetes SD)', async () => {
    const pm: PodMonitoringLike = { metadata: { name: 'x', namespace: 'default' }, spec: { selector: {}, endpoints: [{ port: 'http', interval: '5s' }] } };
    const started = Date.now();
    let error = '';
    try {
      const p = await startPrometheus({ podMonitorings: [pm], discovery: { kind: 'kubernetes', kubeconfigPath: '/nonexistent' } });
      await p.stop();
    } catch (err) {
      error = String(err);
    }
    // A build with Kubernetes SD starts fine (and the test passes without the check below).
    if (error) {
      expect(error).to.match(/Prometheus exited: .*(kubernetes_sd_configs|kubeconfig)/);
      expect(Date.now() - started).to.be.below(20_000);
    }
  });

  it('follows a new set of pods after update()', async () => {
    if (!prometheus || !server) throw new Error('needs the previous test');
    const port = (server.address() as AddressInfo).port;
    const pm: PodMonitoringLike = {
      metadata: { name: 'pets', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'pets' } }, endpoints: [{ port: 'metrics', path: '/custom-metrics', interval: '1s' }] },
    };
    const pod = (name: string): PodLike => ({
      metadata: { name, namespace: 'default', labels: { app: 'pets' } },
      spec: { containers: [{ name: 'server', ports: [{ name: 'metrics', containerPort: port }] }] },
      status: { phase: 'Running', podIP: '127.0.0.1' },
    });
    await prometheus.update([pm], { kind: 'static', pods: [pod('pets-1')] });
    const samples = await prometheus.waitForQuery('up{pod="pets-1"}', (s) => s[0]?.value === 1, { timeoutMs: 20_000 });
    expect(samples[0]?.metric.instance).to.equal(`127.0.0.1:${port}`);
    expect((await prometheus.targets()).map((t) => t.labels.pod)).to.deep.equal(['pets-1']);
  });
});

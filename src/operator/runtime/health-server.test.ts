import { expect } from 'chai';
import { Counter, Registry } from 'prom-client';
import { startHealthServer } from './health-server.js';

describe('health server', () => {
  it('answers healthz, readyz by readiness, and metrics from the injected registry', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'x', registers: [registry] }).inc(3);
    let waiting = ['informer trainingruns'];
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', registry, notReady: () => waiting });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).to.equal(503);
      expect(await notReady.text()).to.include('informer trainingruns');
      waiting = [];
      expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(await metrics.text()).to.include('probe_total 3');
      expect((await fetch(`${base}/nope`)).status).to.equal(404);
    } finally {
      await server.close();
    }
  });
});

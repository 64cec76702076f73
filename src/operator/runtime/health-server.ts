import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The operator's one HTTP port: `/healthz` (the process serves), `/readyz` (every informer cache
 * has synced and none is restarting; a standby replica that is not leading is ready too, so a
 * rollout of the Deployment is not held up by leader election), `/metrics` (Prometheus text).
 * Three fixed routes need no framework: node:http keeps the operator image small.
 */
export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Names of what is not ready yet; empty when ready. */
  notReady: () => string[];
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      const waiting = options.notReady();
      return waiting.length ? send(503, `not ready: ${waiting.join(', ')}\n`) : send(200, 'ok\n');
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => send(200, text, options.registry.contentType))
        .catch((err: unknown) => send(500, `metrics failed: ${err instanceof Error ? err.message : String(err)}\n`));
      return;
    }
    send(404, 'not found\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FlakyProxy {
  readonly endpoint: string;
  /** Requests seen, including the ones answered with a fault. */
  readonly requests: () => number;
  /** Answer the next `count` requests with `status` instead of forwarding them. */
  failNext(count: number, status: number): void;
  /** An outage: answer every request with `status` until restore(). */
  outage(status: number): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of fake-gcs-server that can answer the next N requests with
 * an error status: a real server producing the 429/5xx/403 a real GCS produces, so that the
 * client's retry and error mapping run for real.
 */
export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const upstream = new URL(target);
  let pending = 0;
  let status = 503;
  let seen = 0;
  const server = http.createServer((req, res) => {
    seen++;
    if (pending > 0) {
      pending--;
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: status, message: `injected ${status}` } }));
      return;
    }
    const fwd = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', (err) => res.destroy(err));
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => seen,
    failNext(count, s) {
      pending = count;
      status = s;
    },
    outage(s) {
      pending = Number.POSITIVE_INFINITY;
      status = s;
    },
    restore() {
      pending = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

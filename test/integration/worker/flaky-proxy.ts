import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to a request instead of forwarding it faithfully. */
export type Fault =
  /** Answer with this HTTP status and a GCS-style JSON error. */
  | { readonly kind: 'status'; readonly status: number }
  /** Destroy the connection without answering (the client sees ECONNRESET / socket hang up). */
  | { readonly kind: 'reset' }
  /** Never answer (until restore() or close()): a stalled server. */
  | { readonly kind: 'stall' }
  /** Forward, but cut the response body off after half of it: a partial download. */
  | { readonly kind: 'truncate' }
  /** Forward the headers and half of the body, then send nothing more (until restore() or close()): a download stalled mid-body. */
  | { readonly kind: 'stall-body' }
  /** Forward, but flip one byte in the middle of a response body of at least 64 bytes. */
  | { readonly kind: 'corrupt' };

export interface FlakyProxy {
  readonly endpoint: string;
  /** Requests seen, including the ones answered with a fault. */
  readonly requests: () => number;
  /** Faults injected so far, by kind. */
  readonly injected: () => Readonly<Record<Fault['kind'], number>>;
  /** Answer the next `count` requests with `status` instead of forwarding them. */
  failNext(count: number, status: number): void;
  /** Apply `fault` to the next `count` requests (only to those whose URL matches `match`, when given). */
  faultNext(count: number, fault: Fault, match?: RegExp): void;
  /**
   * Scattered faults: from now on, every `every`-th request gets the next fault of `faults` in
   * turn (so a long run of requests meets each kind of fault several times), until restore().
   */
  faultEvery(every: number, faults: readonly Fault[]): void;
  /** An outage: answer every request with `status` until restore(). */
  outage(status: number): void;
  /** Forward everything again, and release stalled requests by resetting them. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of fake-gcs-server that misbehaves on demand: error statuses
 * (the 429/5xx/403 a real GCS produces), connection resets, stalls (before the answer or in the
 * middle of its body), and truncated or corrupted bodies — a real server producing real faults,
 * so that the client's retries, timeouts, error mapping and the artifact's sha256 check run for
 * real.
 */
export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const upstream = new URL(target);
  let pending = 0;
  let pendingFault: Fault = { kind: 'status', status: 503 };
  let pendingMatch: RegExp | undefined;
  let every = 0;
  let cycle: readonly Fault[] = [];
  let cycleIndex = 0;
  let seen = 0;
  const injected: Record<Fault['kind'], number> = { status: 0, reset: 0, stall: 0, truncate: 0, 'stall-body': 0, corrupt: 0 };
  const stalled = new Set<http.ServerResponse>();
  const hold = (res: http.ServerResponse) => {
    stalled.add(res);
    res.once('close', () => stalled.delete(res));
  };

  const next = (url: string): Fault | undefined => {
    if (pending > 0 && (!pendingMatch || pendingMatch.test(url))) {
      pending--;
      return pendingFault;
    }
    if (every > 0 && seen % every === 0) return cycle[cycleIndex++ % cycle.length];
    return undefined;
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, fault?: Fault) => {
    const fwd = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        if (!fault) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          if (fault.kind === 'stall-body') {
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.write(body.subarray(0, Math.floor(body.length / 2)));
            hold(res);
            return;
          }
          if (fault.kind === 'truncate') {
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.write(body.subarray(0, Math.floor(body.length / 2)));
            setTimeout(() => res.destroy(), 20);
            return;
          }
          if (body.length >= 64) body.writeUInt8(body.readUInt8(body.length >> 1) ^ 0xff, body.length >> 1);
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(body);
        });
      },
    );
    fwd.on('error', (err) => res.destroy(err));
    req.pipe(fwd);
  };

  const server = http.createServer((req, res) => {
    seen++;
    const fault = next(req.url ?? '');
    if (fault) injected[fault.kind]++;
    switch (fault?.kind) {
      case undefined:
        return forward(req, res);
      case 'status':
        req.resume();
        res.writeHead(fault.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: fault.status, message: `injected ${fault.status}` } }));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'stall':
        req.resume();
        hold(res);
        return;
      case 'truncate':
      case 'stall-body':
      case 'corrupt':
        return forward(req, res, fault);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => seen,
    injected: () => ({ ...injected }),
    failNext(count, s) {
      pending = count;
      pendingFault = { kind: 'status', status: s };
      pendingMatch = undefined;
    },
    faultNext(count, fault, match) {
      pending = count;
      pendingFault = fault;
      pendingMatch = match;
    },
    faultEvery(n, faults) {
      every = n;
      cycle = faults;
      cycleIndex = 0;
    },
    outage(s) {
      pending = Number.POSITIVE_INFINITY;
      pendingFault = { kind: 'status', status: s };
      pendingMatch = undefined;
    },
    restore() {
      pending = 0;
      every = 0;
      for (const res of stalled) res.destroy();
      stalled.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

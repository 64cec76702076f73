import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface KubeletServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface KubeletServerOptions {
  host: string;
  cert: string;
  key: string;
  logPath(namespace: string, pod: string, container?: string): string;
  isRunning(namespace: string, pod: string, container: string): boolean;
}

function readFrom(path: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = statSync(path).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * The part of the kubelet API the API server proxies to for `pods/log` (`kubectl logs`):
 * `GET /containerLogs/{namespace}/{pod}/{container}` with `tailLines`, `limitBytes` and `follow`.
 * The API server authenticates with its kubelet client certificate; requests are not authorised
 * further, as the endpoint only listens on the test bed's own network.
 */
export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const server: Server = createServer({ cert: readFileSync(opts.cert), key: readFileSync(opts.key) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.end('ok');
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const [ns, pod, container] = [m[1], m[2], m[3]].map((s) => decodeURIComponent(s ?? '')) as [string, string, string];
    const path = opts.logPath(ns, pod, container);
    let content = readFrom(path, 0);
    let offset = content.length;
    const tailLines = url.searchParams.get('tailLines');
    if (tailLines !== null) {
      const lines = content.toString('utf8').split('\n');
      const hasTrailingNewline = lines[lines.length - 1] === '';
      if (hasTrailingNewline) lines.pop();
      const kept = lines.slice(Math.max(0, lines.length - Number(tailLines)));
      content = Buffer.from(kept.join('\n') + (hasTrailingNewline && kept.length ? '\n' : ''));
    }
    const limit = url.searchParams.get('limitBytes');
    if (limit !== null) content = content.subarray(0, Number(limit));
    res.setHeader('content-type', 'text/plain');
    res.write(content);
    if (url.searchParams.get('follow') !== 'true') {
      res.end();
      return;
    }
    let closed = false;
    res.on('close', () => (closed = true));
    void (async () => {
      while (!closed) {
        const more = readFrom(path, offset);
        offset += more.length;
        if (more.length) res.write(more);
        else if (!opts.isRunning(ns, pod, container)) break;
        await sleep(200);
      }
      res.end();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface ServiceProxy {
  /** `http://127.0.0.1:PORT`: stands for the Service's cluster address. */
  readonly url: string;
  /** The ready endpoints (`ip:port`) requests are spread over right now. */
  endpoints(): readonly string[];
  stop(): Promise<void>;
}

export interface ServiceProxyOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly service: string;
  /** Service port, by number or name. */
  readonly port: number | string;
  /** How often the EndpointSlices are re-read (default 250 ms). */
  readonly refreshMs?: number;
}

/**
 * What kube-proxy does for a ClusterIP Service, for a test bed that has no kube-proxy: a loopback
 * HTTP endpoint that spreads requests round-robin over the Service's ready, non-terminating
 * endpoints, read from its EndpointSlices (kept by the real endpointslice controller). Like
 * kube-proxy it does not retry: a request sent to a pod that goes away fails, so a test that
 * counts failed requests through it measures what a client in a cluster would see. Each request
 * opens its own upstream connection (no pooling), as kube-proxy balances per connection.
 */
export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const discovery = opts.kubeConfig.makeApiClient(DiscoveryV1Api);
  let ready: string[] = [];
  let next = 0;
  let refreshError: unknown;

  const refresh = async (): Promise<void> => {
    const svc = await core.readNamespacedService({ name: opts.service, namespace: opts.namespace });
    const svcPort = svc.spec?.ports?.find((p) => p.port === opts.port || p.name === opts.port);
    if (!svcPort) throw new Error(`service ${opts.namespace}/${opts.service} has no port ${opts.port}`);
    const slices = await discovery.listNamespacedEndpointSlice({ namespace: opts.namespace, labelSelector: `kubernetes.io/service-name=${opts.service}` });
    const found: string[] = [];
    for (const slice of slices.items) {
      const target = slice.ports?.find((p) => (p.name ?? '') === (svcPort.name ?? ''));
      if (!target?.port) continue;
      for (const e of slice.endpoints) {
        if (e.conditions?.ready !== true || e.conditions.terminating === true) continue;
        for (const a of e.addresses) found.push(`${a}:${target.port}`);
      }
    }
    ready = found.sort();
  };
  await refresh().catch((err: unknown) => (refreshError = err));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, opts.refreshMs ?? 250));
      if (stopped) break;
      await refresh().then(
        () => (refreshError = undefined),
        (err: unknown) => (refreshError = err),
      );
    }
  })();

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (ready.length === 0) {
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: `service ${opts.service} has no ready endpoints${refreshError ? ` (${String(refreshError)})` : ''}`, reason: 'NoEndpoints' }));
      return;
    }
    const endpoint = ready[next++ % ready.length] as string;
    const [host, port] = endpoint.split(':') as [string, string];
    const upstream = request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      // Like a reset connection through kube-proxy: the client sees the request fail.
      if (!res.headersSent) {
        res.statusCode = 502;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: `upstream ${endpoint}: ${err.message}`, reason: 'UpstreamFailed' }));
      } else res.destroy(err);
    });
    req.pipe(upstream);
  };

  const server: Server = createServer(forward);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    endpoints: () => ready,
    async stop() {
      stopped = true;
      await loop;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

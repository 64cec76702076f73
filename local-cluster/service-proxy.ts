import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, DiscoveryV1Api, Watch, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';

export interface ServiceProxy {
  /** `http://127.0.0.1:PORT`: stands for the Service's cluster address. */
  readonly url: string;
  /** The endpoints (`ip:port`) requests are spread over right now. */
  endpoints(): readonly string[];
  stop(): Promise<void>;
}

export interface ServiceProxyOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly service: string;
  /** Service port, by number or name. */
  readonly port: number | string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k) && !named.includes(k)));
}

/**
 * The endpoints kube-proxy sends new connections to: the ready ones (EndpointSlice
 * `conditions.ready`, which is false once a pod is terminating); only when none is ready, the
 * terminating ones that still serve (KEP-1669, GA in 1.28), so a Service whose every pod is
 * draining does not drop connections it could still answer.
 */
export function routableEndpoints(slices: Iterable<V1EndpointSlice>, portName: string): string[] {
  const ready: string[] = [];
  const servingTerminating: string[] = [];
  for (const slice of slices) {
    const target = slice.ports?.find((p) => (p.name ?? '') === portName);
    if (!target?.port) continue;
    for (const e of slice.endpoints ?? []) {
      const c = e.conditions;
      const into = c?.ready === true && c.terminating !== true ? ready : c?.serving === true && c.terminating === true ? servingTerminating : undefined;
      for (const a of into ? e.addresses : []) into?.push(`${a}:${target.port}`);
    }
  }
  return (ready.length > 0 ? ready : servingTerminating).sort();
}

/**
 * What kube-proxy does for a ClusterIP Service, for a test bed that has no kube-proxy: a loopback
 * HTTP endpoint that spreads requests round-robin over the Service's routable endpoints (see
 * routableEndpoints), kept current by a list + watch of its EndpointSlices (the real
 * endpointslice controller writes them), relisting whenever the watch ends.
 *
 * Like kube-proxy it never retries: a request sent to a pod that goes away fails, so a test that
 * counts failed requests through it measures what a client in a cluster would see. Each request
 * gets its own upstream connection (kube-proxy balances per connection; no upstream keep-alive
 * socket is ever reused, so none can race a server that closes it), and hop-by-hop headers are
 * not forwarded in either direction.
 */
export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const discovery = opts.kubeConfig.makeApiClient(DiscoveryV1Api);
  const selector = `kubernetes.io/service-name=${opts.service}`;
  const slices = new Map<string, V1EndpointSlice>();
  let portName = '';
  let routable: string[] = [];
  let next = 0;
  let syncError: unknown;
  let stopped = false;
  let watchReq: AbortController | undefined;
  let retry: NodeJS.Timeout | undefined;

  const relist = async (): Promise<string | undefined> => {
    const svc = await core.readNamespacedService({ name: opts.service, namespace: opts.namespace });
    const svcPort = svc.spec?.ports?.find((p) => p.port === opts.port || p.name === opts.port);
    if (!svcPort) throw new Error(`service ${opts.namespace}/${opts.service} has no port ${opts.port}`);
    portName = svcPort.name ?? '';
    const list = await discovery.listNamespacedEndpointSlice({ namespace: opts.namespace, labelSelector: selector });
    slices.clear();
    for (const sl of list.items) if (sl.metadata?.name) slices.set(sl.metadata.name, sl);
    routable = routableEndpoints(slices.values(), portName);
    return list.metadata?.resourceVersion;
  };

  const follow = async (): Promise<void> => {
    retry = undefined;
    if (stopped) return;
    const again = (ms: number): void => {
      if (!stopped && !retry) retry = setTimeout(() => void follow(), ms);
    };
    try {
      const resourceVersion = await relist();
      syncError = undefined;
      watchReq = await new Watch(opts.kubeConfig).watch(
        `/apis/discovery.k8s.io/v1/namespaces/${opts.namespace}/endpointslices`,
        { labelSelector: selector, resourceVersion, allowWatchBookmarks: true },
        (type: string, obj: V1EndpointSlice) => {
          if (type === 'BOOKMARK') return;
          if (type === 'ERROR') {
            // e.g. 410 Gone: end this watch; `done` relists.
            syncError = new Error(`endpointslice watch: ${JSON.stringify(obj)}`);
            watchReq?.abort();
            return;
          }
          const name = obj.metadata?.name;
          if (!name) return;
          if (type === 'DELETED') slices.delete(name);
          else slices.set(name, obj);
          routable = routableEndpoints(slices.values(), portName);
        },
        (err: unknown) => {
          if (err && !stopped) syncError = err;
          again(100);
        },
      );
    } catch (err) {
      syncError = err;
      again(500);
    }
  };
  await follow();

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (routable.length === 0) {
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: `service ${opts.service} has no ready endpoints${syncError ? ` (${String(syncError)})` : ''}`, reason: 'NoEndpoints' }));
      return;
    }
    const endpoint = routable[next++ % routable.length] as string;
    const [host, port] = endpoint.split(':') as [string, string];
    const upstream = request({ host, port: Number(port), method: req.method, path: req.url, headers: endToEnd(req.headers), agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, endToEnd(up.headers));
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
    endpoints: () => routable,
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      watchReq?.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

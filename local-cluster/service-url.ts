import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { waitFor } from './net-utils.js';

/**
 * `http://IP:PORT` of a ready endpoint behind a Service port, from the Service's EndpointSlices
 * (maintained by the real endpointslice controller). The test bed has no kube-proxy, so callers
 * talk to a pod IP directly, which the pod network makes reachable from the host. `port` is the
 * Service port's number or name. Waits up to `timeoutMs` for a ready endpoint.
 */
export async function serviceUrl(
  kc: KubeConfig,
  namespace: string,
  name: string,
  port: number | string,
  timeoutMs = 60_000,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return waitFor(
    async () => {
      const svc = await core.readNamespacedService({ name, namespace });
      const svcPort = svc.spec?.ports?.find((p) => p.port === port || p.name === port);
      if (!svcPort) throw new Error(`service ${namespace}/${name} has no port ${port}`);
      const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` });
      for (const slice of slices.items) {
        const target = slice.ports?.find((p) => (p.name ?? '') === (svcPort.name ?? ''));
        if (!target?.port) continue;
        const ready = slice.endpoints.find((e) => e.conditions?.ready !== false && e.addresses.length > 0);
        if (ready) return `http://${ready.addresses[0]}:${target.port}`;
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 250, what: `a ready endpoint of service ${namespace}/${name} port ${port}` },
  );
}

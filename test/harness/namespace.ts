import type { CoreV1Api } from '@kubernetes/client-node';
import { waitFor } from '../../local-cluster/net-utils.js';

/**
 * Creates a namespace and waits for its `default` service account, which the
 * serviceaccount controller adds a moment later: a pod created before it exists is rejected.
 */
export async function createReadyNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  await waitFor(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }).then(() => true), {
    timeoutMs: 30_000,
    what: `default service account of namespace ${name}`,
  });
}

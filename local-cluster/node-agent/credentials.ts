import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { renderKubeconfig } from '../kubeconfig.js';
import { statusCode } from '../api-errors.js';
import type { EnvSources } from './container-env.js';

export interface PodCredentials {
  /** ConfigMap and Secret data for `env` / `envFrom`, read from the API server (undefined when absent). */
  readonly envSources: EnvSources;
  /**
   * A kubeconfig for the pod's service account, written once into `podDir`: a TokenRequest token
   * bound to the pod, the API server as pods reach it, the cluster CA. Undefined when the pod
   * opts out (`automountServiceAccountToken: false`); throws when its service account is missing.
   */
  podKubeconfig(pod: V1Pod, podDir: string): Promise<string | undefined>;
}

export interface PodCredentialsOptions {
  core: CoreV1Api;
  /** The API server as pods reach it (on the pod network), e.g. https://10.244.N.1:PORT. */
  podApiServer: string;
  /** Path of the cluster CA certificate. */
  caCert: string;
}

/** What the kubelet hands a pod from the API server: ConfigMap and Secret values, and a service-account token. */
export function podCredentials(opts: PodCredentialsOptions): PodCredentials {
  const { core } = opts;
  const envSources: EnvSources = {
    async configMap(ns, name) {
      try {
        return (await core.readNamespacedConfigMap({ name, namespace: ns })).data ?? {};
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
    async secret(ns, name) {
      try {
        const data = (await core.readNamespacedSecret({ name, namespace: ns })).data ?? {};
        return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
  };

  const podKubeconfig = async (pod: V1Pod, podDir: string): Promise<string | undefined> => {
    if (pod.spec?.automountServiceAccountToken === false) return undefined;
    const path = join(podDir, 'kubeconfig');
    if (existsSync(path)) return path;
    const namespace = pod.metadata?.namespace ?? 'default';
    const sa = pod.spec?.serviceAccountName || 'default';
    let token: string | undefined;
    try {
      const res = await core.createNamespacedServiceAccountToken({
        name: sa,
        namespace,
        body: {
          spec: {
            audiences: [],
            expirationSeconds: 86_400,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
          },
        },
      });
      token = res.status?.token;
    } catch (err) {
      if (statusCode(err) === 404) throw new Error(`serviceaccount "${sa}" not found`);
      throw err;
    }
    if (!token) throw new Error(`no token issued for serviceaccount ${namespace}/${sa}`);
    writeFileSync(
      path,
      renderKubeconfig({ server: opts.podApiServer, caCert: opts.caCert, credentials: { token }, namespace, user: `system:serviceaccount:${namespace}:${sa}` }),
      { mode: 0o600 },
    );
    return path;
  };

  return { envSources, podKubeconfig };
}

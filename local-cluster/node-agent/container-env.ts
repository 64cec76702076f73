import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expandVars } from './container-command.js';

/** Reads ConfigMap data and (decoded) Secret data; undefined when the object does not exist. */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** The container cannot start yet: reported as `CreateContainerConfigError`, retried later. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export interface PodRuntimeFacts {
  podIp: string;
  hostIp: string;
}

function fieldValue(pod: V1Pod, path: string, facts: PodRuntimeFacts): string {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP': case 'status.podIPs': return facts.podIp;
    case 'status.hostIP': case 'status.hostIPs': return facts.hostIp;
    default: throw new ContainerConfigError(`unsupported fieldRef ${path}`);
  }
}

/** Parses a Kubernetes quantity ("500m", "2", "512Mi", "1G") into a number of base units. */
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) throw new ContainerConfigError(`bad quantity ${q}`);
  const n = Number(m[1]);
  const suffixes: Record<string, number> = {
    '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
  };
  const factor = suffixes[m[2] ?? ''];
  if (factor === undefined) throw new ContainerConfigError(`bad quantity suffix in ${q}`);
  return n * factor;
}

function resourceValue(container: V1Container, resource: string, divisor: string | undefined): string {
  const [kind, name] = resource.split('.') as [string, string | undefined];
  const table = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  const raw = name ? table?.[name] : undefined;
  // Unset limits resolve to the node's allocatable in a real kubelet; "0" is an honest stand-in here.
  const value = raw === undefined ? 0 : parseQuantity(String(raw));
  return String(Math.ceil(value / parseQuantity(divisor ?? '1')));
}

/**
 * The container's environment as the kubelet builds it: `envFrom` first (prefixed), then `env` in
 * order, each `value` with `$(VAR)` expanded from what came before; `valueFrom` ConfigMap/Secret
 * keys, downward-API fields and resource fields. A missing non-optional source is a
 * ContainerConfigError, as on a real node.
 */
export async function resolveEnv(
  pod: V1Pod,
  container: V1Container,
  facts: PodRuntimeFacts,
  sources: EnvSources,
): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const data = from.configMapRef ? await sources.configMap(ns, ref.name) : await sources.secret(ns, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandVars(e.value ?? '', env);
      continue;
    }
    const { configMapKeyRef: cm, secretKeyRef: sec, fieldRef, resourceFieldRef } = e.valueFrom;
    if (cm || sec) {
      const ref = (cm ?? sec)!;
      const kind = cm ? 'configmap' : 'secret';
      const data = cm ? await sources.configMap(ns, ref.name ?? '') : await sources.secret(ns, ref.name ?? '');
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          data ? `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}` : `${kind} "${ref.name}" not found`,
        );
      }
      env[e.name] = value;
    } else if (fieldRef) {
      env[e.name] = fieldValue(pod, fieldRef.fieldPath, facts);
    } else if (resourceFieldRef) {
      env[e.name] = resourceValue(container, resourceFieldRef.resource, resourceFieldRef.divisor as string | undefined);
    }
  }
  return env;
}

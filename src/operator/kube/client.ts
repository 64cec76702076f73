import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError } from './errors.js';
import { resourcePath, type ResourceRef } from './resources.js';

/** The wire shape every object shares. Objects stay plain JSON, as the informer caches them. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    generateName?: string;
  };
  [key: string]: unknown;
}

/**
 * What a write needs of an object: where it goes (kind, name, namespace); the rest is sent as it
 * is. Kennel's parsed kinds and the wire types of built-in ones both are one.
 */
export interface ObjectToWrite {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Answer as text (pod logs) instead of JSON. */
  text?: boolean;
  timeoutMs?: number;
}

/** The field manager of every server-side apply the operator makes, but for replica counts. */
export const FIELD_MANAGER = 'kennel-operator';
/**
 * The field manager of the serving Deployments' `spec.replicas`, apart from everything else, as
 * Kubernetes documents for handing replicas over to an HPA: when Kennel stops setting a count
 * (the Deployment now serves under autoscaling), the count stays as it is, owned by this manager
 * until the HPA changes it, instead of being removed and defaulted back to 1.
 */
export const REPLICAS_FIELD_MANAGER = 'kennel-operator-replicas';

/**
 * A thin JSON client over the API server. Why not client-node's generated API classes: they
 * turn timestamps into Date objects while its informer caches the wire JSON; one
 * representation (the wire JSON) for the cache and the client avoids a class of bugs. Auth and
 * TLS come from the KubeConfig (KUBECONFIG, in-cluster, exec plugins), so nothing of that is
 * re-implemented; connections are kept alive on one agent.
 */
export interface KubeClient {
  request<T>(options: RequestOptions): Promise<T>;
  get<T extends KubeObject>(r: ResourceRef, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(r: ResourceRef, namespace?: string, query?: { labelSelector?: string; fieldSelector?: string }): Promise<KubeList<T>>;
  create<T extends ObjectToWrite>(r: ResourceRef, obj: T): Promise<T>;
  /** Server-side apply (force) under {@link FIELD_MANAGER}, or the given field manager. */
  apply<T extends ObjectToWrite>(r: ResourceRef, obj: T, options?: { fieldManager?: string }): Promise<T>;
  /** PUT with the object's resourceVersion: 409 Conflict when stale. */
  replace<T extends ObjectToWrite>(r: ResourceRef, obj: T): Promise<T>;
  /** PUT to the status subresource with the object's resourceVersion: 409 Conflict when stale. */
  replaceStatus<T extends ObjectToWrite>(r: ResourceRef, obj: T): Promise<T>;
  delete(r: ResourceRef, namespace: string | undefined, name: string, options?: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' }): Promise<void>;
  /** Closes kept-alive connections. */
  close(): void;
}

export function createKubeClient(kubeConfig: KubeConfig, options: { maxSockets?: number } = {}): KubeClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  const secure = server.protocol === 'https:';
  let agent: http.Agent | undefined;

  async function connection(): Promise<{ agent: http.Agent; headers: http.OutgoingHttpHeaders }> {
    const opts: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(opts);
    if (!agent) {
      const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
      agent = secure
        ? new https.Agent({
            ...agentOptions,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
            ...(cluster?.tlsServerName ? { servername: cluster.tlsServerName } : {}),
          })
        : new http.Agent(agentOptions);
    }
    const headers: http.OutgoingHttpHeaders = {};
    if (opts.headers && !Array.isArray(opts.headers)) Object.assign(headers, opts.headers);
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return { agent, headers };
  }

  async function request<T>(o: RequestOptions): Promise<T> {
    const { agent: a, headers } = await connection();
    const url = new URL(server.href.replace(/\/$/, '') + o.path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    headers.accept = o.text ? '*/*' : 'application/json';
    if (payload) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = payload.length;
    }
    const mod = secure ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, { method: o.method ?? 'GET', agent: a, headers, timeout: o.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            let reason = 'Unknown';
            let message = text.slice(0, 500) || `HTTP ${status}`;
            try {
              const s = JSON.parse(text) as { reason?: string; message?: string };
              reason = s.reason || reason;
              message = s.message || message;
            } catch {
              // not a Status object: keep the raw text
            }
            reject(new KubeApiError(status, reason, `${o.method ?? 'GET'} ${o.path}: ${message}`));
            return;
          }
          if (o.text) {
            resolve(text as T);
            return;
          }
          try {
            resolve((text ? JSON.parse(text) : {}) as T);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${o.method ?? 'GET'} ${o.path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  const nameOf = (obj: ObjectToWrite) => {
    const name = obj.metadata?.name;
    if (!name) throw new Error('object has no metadata.name');
    return name;
  };

  return {
    request,
    async get(r, namespace, name) {
      try {
        return await request({ path: resourcePath(r, namespace, name) });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    list: (r, namespace, query) => request({ path: resourcePath(r, namespace), query: query ?? {} }),
    create: (r, obj) => request({ method: 'POST', path: resourcePath(r, obj.metadata?.namespace), body: obj }),
    apply: (r, obj, options) =>
      request({
        method: 'PATCH',
        path: resourcePath(r, obj.metadata?.namespace, nameOf(obj)),
        query: { fieldManager: options?.fieldManager ?? FIELD_MANAGER, force: true },
        body: obj,
        contentType: 'application/apply-patch+yaml',
      }),
    replace: (r, obj) => request({ method: 'PUT', path: resourcePath(r, obj.metadata?.namespace, nameOf(obj)), body: obj }),
    replaceStatus: (r, obj) =>
      request({ method: 'PUT', path: resourcePath(r, obj.metadata?.namespace, nameOf(obj), 'status'), body: obj, query: { fieldManager: FIELD_MANAGER } }),
    async delete(r, namespace, name, options) {
      try {
        await request({
          method: 'DELETE',
          path: resourcePath(r, namespace, name),
          body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options?.propagationPolicy ?? 'Background' },
        });
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      }
    },
    close() {
      agent?.destroy();
      agent = undefined;
    },
  };
}

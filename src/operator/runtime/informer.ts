import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient, KubeList, KubeObject } from '../kube/client.js';
import { resourcePath, type ResourceRef } from '../kube/resources.js';
import type { Clock } from '../../shared/clock.js';

/**
 * A cache of one kind, kept current by list + watch, over @kubernetes/client-node's
 * `ListWatch` (what its `makeInformer` returns). That informer re-watches when a watch ends normally and re-lists on 410 Gone,
 * but on any other error (list failed, connection refused, reset) it fires `error` and stops for
 * good. This wrapper restarts it with exponential backoff (1 s → 30 s, reset once synced) and
 * reports `hasSynced() === false` while any part of it is restarting, so `/readyz` says so.
 *
 * With namespaces given it runs one list+watch per namespace (the operator may be limited to
 * some namespaces by RBAC); with none, one cluster-wide.
 *
 * Handlers receive the object and must only enqueue: reconcilers read the cache, never events.
 *
 * Objects are cached without `metadata.managedFields` (client-go's usual cache transform): the
 * operator never reads them, and for objects written by server-side apply they are about as
 * large as the object itself.
 */
export interface Informer<T extends KubeObject> {
  readonly resource: ResourceRef;
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  hasSynced(): boolean;
  /** Called for every add, update and delete (also the deletes a relist discovers). */
  onChange(handler: (obj: T) => void): void;
  /** Starts list+watch (once; later calls only wait); resolves once every namespace has synced at least once. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface InformerOptions {
  kubeConfig: KubeConfig;
  kube: KubeClient;
  resource: ResourceRef;
  /** Empty: all namespaces. */
  namespaces: readonly string[];
  labelSelector?: string;
  logger: Logger;
  clock: Clock;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called each time a stopped watch is restarted (for a metric). */
  onRestart?: () => void;
  /** Called for each list after the first of a namespace: a watch that ended with 410 Gone (for a metric). */
  onRelist?: () => void;
}

type State = 'idle' | 'starting' | 'synced' | 'failed';

/**
 * The one place where client-node's object model meets the wire JSON: its informer caches the
 * JSON exactly as received, while its types claim `Date` objects for timestamps; Kennel's wire
 * types say strings, as the JSON has them.
 */
const fromClientNode = <T>(objects: readonly KubernetesObject[]): T[] => objects as unknown as T[];
const toClientNode = (list: KubeList<KubeObject>): KubernetesListObject<KubernetesObject> => list as unknown as KubernetesListObject<KubernetesObject>;

function stripManagedFields<T>(obj: T): T {
  const meta = (obj as { metadata?: { managedFields?: unknown } } | undefined)?.metadata;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
  return obj;
}

/** client-node's Watch with the cache transform applied to every event's object. */
class TransformingWatch extends Watch {
  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, queryParams, (phase, obj, raw) => callback(phase, stripManagedFields(obj), raw), done);
  }
}

interface Part {
  namespace: string | undefined;
  inner: ListWatch<KubernetesObject>;
  state: State;
  attempts: number;
  /** Bumped on every error, to tell whether an error happened while `start()` ran. */
  errors: number;
  cancelRestart?: () => void;
  /** A list has succeeded: any later list is a relist after 410 Gone. */
  listed: boolean;
  synced: Promise<void>;
  markSynced: () => void;
}

export function createInformer<T extends KubeObject>(options: InformerOptions): Informer<T> {
  const { resource, clock } = options;
  const initial = options.backoff?.initialMs ?? 1_000;
  const max = options.backoff?.maxMs ?? 30_000;
  const logger = options.logger.child({ resource: resource.plural });
  const handlers: Array<(obj: T) => void> = [];
  let stopped = false;
  let started = false;

  const dispatch = (obj: KubernetesObject) => {
    for (const typed of fromClientNode<T>([obj])) for (const h of handlers) h(typed);
  };

  const parts: Part[] = (options.namespaces.length ? options.namespaces : [undefined]).map((namespace) => {
    const listFn = async () => {
      // ListWatch lists again only after its resourceVersion was cleared by a 410 Gone.
      if (part.listed) {
        logger.info({ namespace }, 'watch expired (410 Gone); relisting');
        options.onRelist?.();
      }
      const list = await options.kube.list<KubeObject>(resource, namespace, options.labelSelector ? { labelSelector: options.labelSelector } : undefined);
      for (const item of list.items) stripManagedFields(item);
      part.listed = true;
      return toClientNode(list);
    };
    const inner = new ListWatch<KubernetesObject>(resourcePath(resource, namespace), new TransformingWatch(options.kubeConfig), listFn, false, options.labelSelector);
    let markSynced = () => {};
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const part: Part = { namespace, inner, state: 'idle', attempts: 0, errors: 0, listed: false, synced, markSynced };
    inner.on('add', dispatch);
    inner.on('update', dispatch);
    inner.on('delete', dispatch);
    inner.on('error', (err: unknown) => {
      if (stopped) return;
      part.errors++;
      if (part.state === 'failed') return;
      part.state = 'failed';
      const delay = Math.min(max, initial * 2 ** part.attempts);
      part.attempts++;
      logger.warn({ err, namespace, delayMs: delay, attempt: part.attempts }, 'watch stopped; restarting');
      part.cancelRestart = clock.setTimer(() => {
        part.cancelRestart = undefined;
        options.onRestart?.();
        void run(part);
      }, delay);
    });
    return part;
  });

  async function run(part: Part): Promise<void> {
    if (stopped) return;
    const before = part.errors;
    part.state = 'starting';
    try {
      await part.inner.start();
    } catch (err) {
      // start() reports through the error callback; a throw here is unexpected but handled alike.
      logger.warn({ err, namespace: part.namespace }, 'informer start threw');
    }
    if (stopped || part.errors !== before || part.state !== 'starting') return;
    part.state = 'synced';
    part.attempts = 0;
    part.markSynced();
    logger.debug({ namespace: part.namespace, objects: part.inner.list(part.namespace).length }, 'informer synced');
  }

  const partFor = (namespace: string) => (parts.length === 1 && parts[0]?.namespace === undefined ? parts[0] : parts.find((p) => p.namespace === namespace));

  return {
    resource,
    get(namespace, name) {
      const obj = partFor(namespace)?.inner.get(name, namespace);
      return obj ? fromClientNode<T>([obj])[0] : undefined;
    },
    list(namespace) {
      if (namespace !== undefined) return fromClientNode<T>(partFor(namespace)?.inner.list(namespace) ?? []);
      return fromClientNode<T>(parts.flatMap((p) => p.inner.list(p.namespace)));
    },
    hasSynced: () => parts.every((p) => p.state === 'synced'),
    onChange(handler) {
      handlers.push(handler);
    },
    async start() {
      if (!started) {
        started = true;
        stopped = false;
        for (const p of parts) void run(p);
      }
      await Promise.all(parts.map((p) => p.synced));
    },
    async stop() {
      stopped = true;
      for (const p of parts) {
        p.cancelRestart?.();
        p.state = 'idle';
        // Wake whoever waits in start(); hasSynced() stays false.
        p.markSynced();
        await p.inner.stop();
      }
    },
  };
}

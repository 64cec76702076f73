import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { KubeClient, KubeObject } from './client.js';
import { isNotFound } from './errors.js';
import { resourcePath, Resources } from './resources.js';

export type EventType = 'Normal' | 'Warning';

/** An Event to record: its type, a CamelCase reason and a message for people. */
export interface EventSpec {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/**
 * Records Kubernetes Events (core/v1, what `kubectl describe` shows) about an object. Recording
 * is best effort: a failed event is logged and never fails a reconcile.
 *
 * Repeats are aggregated as client-go's event correlator does: the same event (object, type,
 * reason, message, source) recorded again bumps `count` and `lastTimestamp` of the Event already
 * written (a merge patch) instead of creating another, so `kubectl describe` shows
 * "x3 over 2m". The recorder remembers the Events it wrote (an LRU of 4096, client-go's size);
 * an Event the API server has since dropped (its TTL, an hour by default) is created anew.
 */
export interface EventRecorder {
  record(obj: KubeObject, event: EventSpec): Promise<void>;
}

interface Written {
  name: string;
  namespace: string;
  count: number;
}

const MAX_REMEMBERED = 4096;
const SOURCE = 'kennel-operator';

export function createEventRecorder(options: { kube: KubeClient; clock: Clock; logger: Logger; instance: string }): EventRecorder {
  const written = new LRUCache<string, Written>({ max: MAX_REMEMBERED });

  async function create(obj: KubeObject, event: EventSpec, now: string): Promise<Written> {
    const m = obj.metadata ?? {};
    const created: KubeObject = await options.kube.create<KubeObject>(Resources.event, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${m.name ?? 'object'}.`, namespace: m.namespace ?? 'default' },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: SOURCE },
      reportingComponent: SOURCE,
      reportingInstance: options.instance.slice(0, 128),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    return { name: created.metadata?.name ?? '', namespace: m.namespace ?? 'default', count: 1 };
  }

  /** Bumps an Event already written; undefined when the API server no longer has it. */
  async function bump(previous: Written, now: string): Promise<Written | undefined> {
    const count = previous.count + 1;
    try {
      await options.kube.request({
        method: 'PATCH',
        path: resourcePath(Resources.event, previous.namespace, previous.name),
        body: { count, lastTimestamp: now },
        contentType: 'application/merge-patch+json',
      });
      return { ...previous, count };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  return {
    async record(obj, spec) {
      const m = obj.metadata ?? {};
      const event = { ...spec, message: spec.message.slice(0, 1024) };
      const key = JSON.stringify([obj.apiVersion, obj.kind, m.namespace, m.name, m.uid, event.type, event.reason, event.message]);
      const now = new Date(options.clock.now()).toISOString();
      try {
        const previous = written.get(key);
        const next = (previous && (await bump(previous, now))) ?? (await create(obj, event, now));
        written.set(key, next);
      } catch (err) {
        options.logger.warn({ err, reason: event.reason, kind: obj.kind, name: m.name }, 'event not recorded');
      }
    },
  };
}

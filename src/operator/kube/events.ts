import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { KubeClient, KubeObject } from './client.js';
import { Resources } from './resources.js';

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
 */
export interface EventRecorder {
  record(obj: KubeObject, event: EventSpec): Promise<void>;
}

export function createEventRecorder(options: { kube: KubeClient; clock: Clock; logger: Logger; instance: string }): EventRecorder {
  return {
    async record(obj, { type, reason, message }) {
      const m = obj.metadata ?? {};
      const now = new Date(options.clock.now()).toISOString();
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${m.name ?? 'object'}.`, namespace: m.namespace ?? 'default' },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: 'kennel-operator' },
        reportingComponent: 'kennel-operator',
        reportingInstance: options.instance.slice(0, 128),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      try {
        await options.kube.create(Resources.event, event);
      } catch (err) {
        options.logger.warn({ err, reason, kind: obj.kind, name: m.name }, 'event not recorded');
      }
    },
  };
}

import { describeErrors } from '../../shared/api/parse.js';
import type { Clock } from '../../shared/clock.js';
import { TerminalError } from '../../shared/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { EventRecorder, EventSpec } from '../kube/events.js';
import type { ResourceRef } from '../kube/resources.js';
import { mergeConditions, statusChanged, summaryConditions } from '../shared/conditions.js';
import { phaseEvent } from '../shared/phase-event.js';
import type { Reconcile, ReconcileContext, Request } from './controller.js';
import type { KindCache, StatusOf, Stored } from './kind-cache.js';

/** What a kind's reconcile decided about one object. */
export interface ObjectOutcome<S> {
  /** The status it should have: written to /status only when it differs from the stored one. Absent: left as it is. */
  status?: S;
  /** Events of a transition, recorded (after the phase Event) only when `status` was written, not when it was unchanged. */
  events?: readonly EventSpec[];
  /** Runs once the status is settled (written, or unchanged; not when the write failed): in-memory bookkeeping and metrics. */
  afterStatus?: (written: boolean) => void;
  /** Look again after this long: only when waiting on the clock (an event brings everything else). */
  requeueAfterMs?: number;
  /** Retrying cannot help (the status says why): thrown as a TerminalError once the status is written. */
  terminal?: { reason: string; message: string };
}

/**
 * One kind's own logic, the shape of controller-runtime's ObjectReconciler: everything a kind
 * shares with the others (read from the cache, skip what is gone or being deleted, parse, report
 * an invalid spec, write status, record the phase Event) is {@link asReconciler}'s.
 */
export interface ObjectReconciler<T extends { metadata: { name: string } }> {
  /** The kind's cache (parses at the boundary). */
  readonly cache: KindCache<T>;
  /** Where its /status is written. */
  readonly resource: ResourceRef;
  /** Its condition reasons: InvalidSpec is the one the skeleton sets, so every kind must list it. */
  readonly reasons: { readonly InvalidSpec: string };
  /** Phases whose Event is a Warning (every other phase change is Normal). */
  readonly warningPhases: readonly string[];
  /** The status of an object whose spec does not parse, from the skeleton's (Ready False and Stalled, reason InvalidSpec), e.g. with a phase. */
  invalidSpecStatus?(status: StatusOf<T>, why: { reason: string; message: string }): StatusOf<T>;
  /** Log fields beyond phase and Ready reason when its status is written. */
  statusLogFields?(status: StatusOf<T>): Record<string, unknown>;
  /** The kind's reconcile of one parsed, frozen object: children, observations, the status it should have. */
  reconcile(obj: T, ctx: ObjectContext): Promise<ObjectOutcome<StatusOf<T>>>;
  /** The object is gone (or being deleted): drop what is kept for it in memory. Children go by owner reference. */
  forget?(request: Request): void;
}

/** A reconcile's context, with the namespace of the object (the request's). */
export interface ObjectContext extends ReconcileContext {
  readonly namespace: string;
}

export interface ObjectReconcilerDeps {
  kube: KubeClient;
  events: EventRecorder;
  clock: Clock;
}

/**
 * Turns a kind's {@link ObjectReconciler} into the controller's key-level reconcile, as
 * controller-runtime's `AsReconciler` does:
 *
 * 1. get the object from the cache; gone or being deleted → forget it and return;
 * 2. parse it (once per stored version); an invalid spec → Ready False and Stalled with reason
 *    InvalidSpec, written to /status, and a TerminalError (not retried until the object changes);
 * 3. run the kind's reconcile;
 * 4. write the status it returns when it changed (PUT with the cached resourceVersion: a stale
 *    cache gives 409, which is thrown, so the queue retries once the informer has caught up),
 *    record the phase Event and the kind's own Events, then run its `afterStatus`;
 * 5. throw its terminal error, or return its requeue.
 */
export function asReconciler<T extends { metadata: { name: string } }>(deps: ObjectReconcilerDeps, kind: ObjectReconciler<T>): Reconcile {
  const { kube, events, clock } = deps;
  type S = StatusOf<T>;

  async function writeStatus(stored: Stored<S>, after: S, ctx: ReconcileContext): Promise<boolean> {
    const before = stored.status;
    if (!statusChanged(before, after)) return false;
    await kube.replaceStatus(kind.resource, { ...stored, status: after });
    const ready = after.conditions?.find((c) => c.type === 'Ready');
    ctx.logger.info({ phase: after.phase, reason: ready?.reason, ...kind.statusLogFields?.(after) }, 'status updated');
    const event = phaseEvent(before, after, kind.warningPhases);
    if (event) await events.record(stored, event);
    return true;
  }

  async function rejectInvalidSpec(stored: Stored<S>, errors: readonly string[], ctx: ReconcileContext): Promise<never> {
    const reason = kind.reasons.InvalidSpec;
    const message = `invalid ${kind.resource.kind}: ${describeErrors(errors)}`;
    const previous = stored.status;
    const generation = stored.metadata?.generation;
    // Every status field is optional (KindStatus): the previous status with these set is one.
    const status = {
      ...previous,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: mergeConditions(
        previous?.conditions,
        summaryConditions({ ready: { status: 'False', reason, message }, stalled: { reason, message } }),
        { now: new Date(clock.now()), generation },
      ),
    } as S;
    await writeStatus(stored, kind.invalidSpecStatus?.(status, { reason, message }) ?? status, ctx);
    throw new TerminalError(reason, message);
  }

  return async (request, ctx) => {
    const stored = kind.cache.get(request.namespace, request.name);
    if (!stored || stored.metadata?.deletionTimestamp) {
      kind.forget?.(request);
      return undefined;
    }
    const parsed = kind.cache.parse(stored);
    if (!parsed.ok) return rejectInvalidSpec(stored, parsed.errors, ctx);
    const outcome = await kind.reconcile(parsed.value, { ...ctx, namespace: request.namespace });
    const written = outcome.status !== undefined && (await writeStatus(stored, outcome.status, ctx));
    if (written) for (const event of outcome.events ?? []) await events.record(stored, event);
    outcome.afterStatus?.(written);
    if (outcome.terminal) throw new TerminalError(outcome.terminal.reason, outcome.terminal.message);
    return outcome.requeueAfterMs === undefined ? undefined : { requeueAfterMs: outcome.requeueAfterMs };
  };
}

import type { Condition, ConditionStatus } from '../../shared/api/common.js';
import { canonicalJson } from './names.js';

/**
 * metav1.Condition bookkeeping shared by every controller. Each kind reports a summary `Ready`
 * plus kstatus' abnormal-true pair: `Reconciling` (True while work is in progress) and
 * `Stalled` (True when it cannot progress without a change: a terminal reason). Those two are
 * removed, not set False, when they no longer apply — that is what kstatus, Argo CD and Flux
 * expect.
 */

export const ConditionTypes = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
} as const;
export type ConditionType = (typeof ConditionTypes)[keyof typeof ConditionTypes];

/** What a status function wants a condition to say; times and generations are filled in here. */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface MergeOptions {
  now: Date;
  /** metadata.generation of the object the conditions describe. */
  generation?: number;
  /** Types this call owns: those absent from `desired` are removed. Default: Reconciling, Stalled. */
  managed?: readonly string[];
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * One condition set to `input`. `lastTransitionTime` moves only when `status` flips; reason,
 * message and observedGeneration follow the input. Order of the list is kept; a new type is
 * appended. Returns a new array (inputs are not mutated).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  options: Pick<MergeOptions, 'now' | 'generation'>,
): Condition[] {
  if (!input.reason) throw new Error(`condition ${input.type} needs a reason`);
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === input.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime:
      previous && previous.status === input.status ? previous.lastTransitionTime : options.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (options.generation !== undefined) next.observedGeneration = options.generation;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/** Sets every desired condition and removes managed types that are not desired. */
export function mergeConditions(
  conditions: readonly Condition[] | undefined,
  desired: readonly ConditionInput[],
  options: MergeOptions,
): Condition[] {
  const managed = options.managed ?? [ConditionTypes.Reconciling, ConditionTypes.Stalled];
  const wanted = new Set(desired.map((d) => d.type));
  let list = (conditions ?? []).filter((c) => wanted.has(c.type) || !managed.includes(c.type));
  for (const input of desired) list = setCondition(list, input, options);
  return list;
}

/** The summary conditions of a kind's state: Ready, plus Reconciling or Stalled when they apply. */
export interface Summary {
  ready: { status: ConditionStatus; reason: string; message: string };
  /** In progress (transient): Reconciling=True with this reason. */
  reconciling?: { reason: string; message: string };
  /** Cannot progress without a change (terminal): Stalled=True with this reason. */
  stalled?: { reason: string; message: string };
}

/**
 * The summary of a worker Job's verdict: Ready=True when it `succeeded`; otherwise Ready=False
 * with Stalled (a terminal reason: nothing changes without a new spec) or Reconciling.
 */
export function verdictSummary(v: { reason: string; message: string; terminal: boolean }, succeeded: boolean): Summary {
  const why = { reason: v.reason, message: v.message };
  if (succeeded) return { ready: { status: 'True', ...why } };
  return v.terminal ? { ready: { status: 'False', ...why }, stalled: why } : { ready: { status: 'False', ...why }, reconciling: why };
}

export function summaryConditions(summary: Summary): ConditionInput[] {
  const out: ConditionInput[] = [{ type: ConditionTypes.Ready, ...summary.ready }];
  if (summary.reconciling) out.push({ type: ConditionTypes.Reconciling, status: 'True', ...summary.reconciling });
  if (summary.stalled) out.push({ type: ConditionTypes.Stalled, status: 'True', ...summary.stalled });
  return out;
}

/** True when two statuses differ in anything but key order: patch /status only then. */
export function statusChanged(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? {}) !== canonicalJson(b ?? {});
}

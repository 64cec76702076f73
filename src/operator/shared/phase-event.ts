import type { Condition } from '../../shared/api/common.js';
import type { EventSpec } from '../kube/events.js';

/** What every Kennel status has: a phase and a Ready condition that says why. */
export interface PhasedStatus {
  phase?: string;
  conditions?: readonly Condition[];
}

/**
 * The Event for a phase change (undefined when the phase did not change): reason and message from
 * the new Ready condition, `Warning` for the phases in `warningPhases`. `kubectl describe` then
 * tells the object's story one phase at a time.
 */
export function phaseEvent<S extends PhasedStatus>(before: S | undefined, after: S, warningPhases: readonly string[]): EventSpec | undefined {
  if (before?.phase === after.phase) return undefined;
  const ready = after.conditions?.find((c) => c.type === 'Ready');
  return {
    type: after.phase !== undefined && warningPhases.includes(after.phase) ? 'Warning' : 'Normal',
    reason: ready?.reason ?? after.phase ?? 'Unknown',
    message: `${before?.phase ?? 'New'} → ${after.phase ?? 'Unknown'}: ${ready?.message ?? ''}`.trim(),
  };
}

import { ModelVersionReasons as R, type ModelVersion, type ModelVersionPhase, type ModelVersionStatus } from '../../shared/api/model-version.js';
import { mergeConditions, summaryConditions, type Summary } from '../shared/conditions.js';
import type { GateVerdict } from './gate.js';

/** Phases announced by a Warning Event. */
export const ModelVersionWarningPhases: readonly ModelVersionPhase[] = ['Rejected'];

/**
 * ModelVersion status: the gate's verdict and where the version serves. Pure.
 * Phases: Evaluated (gate not decided yet) → Passed or Rejected; Passed → Serving while an
 * InferenceService serves it → Retired once none does any more.
 */
export interface ModelVersionObservation {
  gate?: GateVerdict;
  /** InferenceServices (same namespace) serving it as stable or canary, sorted. */
  servingBy: readonly string[];
  now: Date;
}

export function computeModelVersionStatus(mv: ModelVersion, obs: ModelVersionObservation): ModelVersionStatus {
  const previous = mv.status;
  const servingBy = [...obs.servingBy].sort();
  let phase: ModelVersionPhase;
  let summary: Summary;
  if (!obs.gate) {
    phase = 'Evaluated';
    summary = { ready: { status: 'False', reason: R.Evaluating, message: 'evaluating the gate' }, reconciling: { reason: R.Evaluating, message: 'evaluating the gate' } };
  } else if (!obs.gate.passed) {
    phase = 'Rejected';
    const failed = obs.gate.reasons.filter((r) => r.startsWith('FAIL')).join('; ');
    const message = `rejected by its evaluation gate: ${failed}`;
    summary = { ready: { status: 'False', reason: R.GateFailed, message }, stalled: { reason: R.GateFailed, message } };
  } else if (servingBy.length > 0) {
    phase = 'Serving';
    summary = { ready: { status: 'True', reason: R.Serving, message: `serving in ${servingBy.join(', ')}` } };
  } else if (previous?.phase === 'Serving' || previous?.phase === 'Retired') {
    phase = 'Retired';
    summary = { ready: { status: 'True', reason: R.Retired, message: 'passed its gate; no longer serving' } };
  } else {
    phase = 'Passed';
    summary = { ready: { status: 'True', reason: R.GatePassed, message: 'passed its evaluation gate' } };
  }
  const status: ModelVersionStatus = { phase };
  if (mv.metadata.generation !== undefined) status.observedGeneration = mv.metadata.generation;
  if (obs.gate) status.gate = obs.gate;
  if (servingBy.length > 0) status.servingBy = servingBy;
  status.conditions = mergeConditions(previous?.conditions, summaryConditions(summary), { now: obs.now, generation: mv.metadata.generation });
  return status;
}

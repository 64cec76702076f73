import type { GatePolicy, ModelVersion, ModelVersionStatus } from '../../shared/api/model-version.js';
import type { EvaluationGate, GateMetric } from '../../shared/api/training-run.js';
import { rfc3339 } from '../shared/wire.js';

/**
 * The evaluation gate: may this version be served? Thresholds come from the run (copied into
 * spec.gate), missing ones from the operator's defaults; `mustBeatChampion` compares with the
 * version now serving the model. The verdict is decided once and kept in status: re-judging
 * later would let a version fail against itself once it serves.
 */

export interface GateDefaults {
  /** KENNEL_GATE_MIN_ACCURACY. */
  minAccuracy?: number;
}

export type GateVerdict = NonNullable<ModelVersionStatus['gate']>;

/** spec.gate with defaults filled in. */
export function effectivePolicy(gate: EvaluationGate | undefined, defaults: GateDefaults): GatePolicy {
  const policy: GatePolicy = {};
  const minAccuracy = gate?.minAccuracy ?? defaults.minAccuracy;
  if (minAccuracy !== undefined) policy.minAccuracy = minAccuracy;
  if (gate?.minF1 !== undefined) policy.minF1 = gate.minF1;
  if (gate?.minClassRecall !== undefined) policy.minClassRecall = gate.minClassRecall;
  if (gate?.mustBeatChampion) policy.mustBeatChampion = { metric: gate.mustBeatChampion.metric ?? 'accuracy', margin: gate.mustBeatChampion.margin };
  return policy;
}

const fmt = (n: number) => n.toFixed(3);
const metricOf = (mv: Pick<ModelVersion, 'spec'>, metric: GateMetric) => (metric === 'f1' ? mv.spec.metrics.f1 : mv.spec.metrics.accuracy);

/**
 * The champion: the newest version of the same model (other than `mv`) now serving somewhere
 * (status.phase Serving). Undefined when none serves.
 */
export function findChampion<T extends Pick<ModelVersion, 'spec' | 'status' | 'metadata'>>(mv: Pick<ModelVersion, 'spec' | 'metadata'>, versions: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const v of versions) {
    if (v.spec.model !== mv.spec.model || v.metadata.name === mv.metadata.name || v.status?.phase !== 'Serving') continue;
    if (!best || v.spec.version > best.spec.version) best = v;
  }
  return best;
}

export interface GateContext {
  defaults: GateDefaults;
  champion?: Pick<ModelVersion, 'spec' | 'metadata'>;
  now: Date;
}

/** Judges a version against its policy. Every check gives a reason line, met or not. */
export function evaluateGate(mv: Pick<ModelVersion, 'spec'>, ctx: GateContext): GateVerdict {
  const policy = effectivePolicy(mv.spec.gate, ctx.defaults);
  const m = mv.spec.metrics;
  const reasons: string[] = [];
  let passed = true;
  const check = (ok: boolean, text: string) => {
    if (!ok) passed = false;
    reasons.push(`${ok ? 'ok' : 'FAIL'}: ${text}`);
  };
  if (policy.minAccuracy !== undefined) check(m.accuracy >= policy.minAccuracy, `accuracy ${fmt(m.accuracy)} ${m.accuracy >= policy.minAccuracy ? '≥' : '<'} minAccuracy ${fmt(policy.minAccuracy)}`);
  if (policy.minF1 !== undefined) check(m.f1 >= policy.minF1, `F1 ${fmt(m.f1)} ${m.f1 >= policy.minF1 ? '≥' : '<'} minF1 ${fmt(policy.minF1)}`);
  if (policy.minClassRecall !== undefined) {
    for (const cls of mv.spec.classes) {
      const recall = m.perClass[cls]?.recall;
      if (recall === undefined) check(false, `class ${cls} has no recall in the metrics`);
      else check(recall >= policy.minClassRecall, `recall of ${cls} ${fmt(recall)} ${recall >= policy.minClassRecall ? '≥' : '<'} minClassRecall ${fmt(policy.minClassRecall)}`);
    }
  }
  let comparedTo: string | undefined;
  if (policy.mustBeatChampion) {
    const { metric, margin } = policy.mustBeatChampion;
    if (!ctx.champion) {
      reasons.push(`ok: no version of ${mv.spec.model} is serving, so there is no champion to beat`);
    } else {
      comparedTo = ctx.champion.metadata.name;
      const mine = metricOf(mv, metric);
      const theirs = metricOf(ctx.champion, metric);
      const need = theirs + margin;
      check(mine >= need - 1e-12, `${metric} ${fmt(mine)} ${mine >= need - 1e-12 ? '≥' : '<'} champion ${comparedTo}'s ${fmt(theirs)} + margin ${fmt(margin)}`);
    }
  }
  if (reasons.length === 0) reasons.push('ok: no thresholds apply');
  const verdict: GateVerdict = { passed, policy, reasons, evaluatedAt: rfc3339(ctx.now) };
  if (comparedTo) verdict.comparedTo = comparedTo;
  return verdict;
}

/** The recorded verdict when there is one, else a fresh evaluation: a gate is decided once. */
export function decideGate(mv: Pick<ModelVersion, 'spec' | 'status'>, ctx: GateContext): GateVerdict {
  return mv.status?.gate ?? evaluateGate(mv, ctx);
}

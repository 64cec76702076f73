import type { V1ResourceRequirements } from '@kubernetes/client-node';
import type { ResourceRequirements } from '../../shared/api/common.js';

/** core/v1 resources from a Kennel spec's (quantities as strings), or `fallback` when none are set. */
export function toResourceRequirements(r: ResourceRequirements | undefined, fallback: V1ResourceRequirements): V1ResourceRequirements {
  if (!r || (!r.requests && !r.limits)) return fallback;
  const strings = (m: Record<string, string | number> | undefined) =>
    m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined;
  const out: V1ResourceRequirements = {};
  const requests = strings(r.requests);
  const limits = strings(r.limits);
  if (requests) out.requests = requests;
  if (limits) out.limits = limits;
  return out;
}

import { createHash } from 'node:crypto';

/**
 * Deterministic names for the children the operator creates. The same input always gives the
 * same name, so a restarted operator finds (never duplicates) what it created before, and a
 * changed spec gives a new name instead of mutating an immutable child (a Job).
 */

/** Kubernetes' limit for names that end up as label values or DNS labels. */
export const MAX_NAME_LENGTH = 63;

/** JSON with object keys sorted at every level: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** A short, lowercase hex hash of a value's canonical JSON (default 8 characters = 32 bits). */
export function specHash(value: unknown, length = 8): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

/**
 * `<base>-<suffix>` cut to at most `max` characters: when too long, `base` is shortened and a
 * hash of the full base is inserted so two long bases never collide. The result is a DNS-1123
 * label when `base` and `suffix` are (dots become dashes).
 */
export function childName(base: string, suffix: string, max = MAX_NAME_LENGTH): string {
  const clean = base.replace(/\./g, '-').replace(/-+$/, '');
  const tail = suffix ? `-${suffix}` : '';
  if (clean.length + tail.length <= max) return clean + tail;
  const tag = specHash(base, 6);
  const head = clean.slice(0, Math.max(1, max - tail.length - tag.length - 1)).replace(/-+$/, '');
  return `${head}-${tag}${tail}`;
}

/** The training Job of a run: run name + hash of the spec (≤ 63 characters). */
export function jobName(runName: string, spec: unknown): string {
  return childName(runName, specHash(spec));
}

/** The ModelVersion a model's n-th version is registered as. */
export function modelVersionName(model: string, version: number): string {
  return childName(model, `v${version}`, 253);
}

/** The Deployment serving one ModelVersion for an InferenceService. */
export function servingDeploymentName(isvcName: string, modelVersion: string): string {
  return childName(isvcName, modelVersion);
}

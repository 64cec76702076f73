import type { ModelVersion } from '../../shared/api/model-version.js';

/**
 * Version numbers: monotonic per model. The next number is 1 + the highest existing one; the
 * ModelVersion is then *created* (never applied) under the deterministic name
 * `<model>-v<n>`, so when two runs finish at once the API server accepts exactly one of them
 * and the other gets 409 AlreadyExists and retries with a fresh list — no number is ever given
 * twice, and an existing version is never overwritten (its spec is immutable too).
 */

type Versioned = Pick<ModelVersion, 'spec'>;

/** 1 + the highest version of `model` among `existing` (1 when there is none). */
export function nextVersion(existing: readonly Versioned[], model: string): number {
  let max = 0;
  for (const mv of existing) if (mv.spec.model === model && mv.spec.version > max) max = mv.spec.version;
  return max + 1;
}

/** The version a TrainingRun already registered (by its uid), so a retried reconcile registers none twice. */
export function versionOfRun<T extends Versioned>(existing: readonly T[], runUid: string): T | undefined {
  return existing.find((mv) => mv.spec.lineage.trainingRunUid === runUid);
}

/** The versions of a model, newest first. */
export function versionsOf<T extends Versioned>(existing: readonly T[], model: string): T[] {
  return existing.filter((mv) => mv.spec.model === model).sort((a, b) => b.spec.version - a.spec.version);
}

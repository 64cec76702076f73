import type { BatchPrediction } from '../../shared/api/batch-prediction.js';
import type { InferenceService } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';

export type ModelResolution = { ok: true; modelVersion: ModelVersion } | { ok: false; message: string };

/**
 * The ModelVersion a batch classifies with: the named one, or the one the named
 * InferenceService serves now (its stable version, never a canary). Pure. Not found yet is not
 * an error: the batch waits for it (a ModelVersion may be registered, a service may start
 * serving). Asked only before the Job exists: the Job pins the version it was made with.
 */
export function resolveModel(bp: BatchPrediction, versions: readonly ModelVersion[], services: readonly InferenceService[]): ModelResolution {
  const find = (name: string) => versions.find((v) => v.metadata.name === name);
  const { modelVersion, inferenceService } = bp.spec.model;
  if (modelVersion !== undefined) {
    const mv = find(modelVersion);
    return mv ? { ok: true, modelVersion: mv } : { ok: false, message: `waiting for ModelVersion ${modelVersion}, which does not exist` };
  }
  const isvc = services.find((s) => s.metadata.name === inferenceService);
  if (!isvc) return { ok: false, message: `waiting for InferenceService ${inferenceService ?? '?'}, which does not exist` };
  const current = isvc.status?.currentModelVersion;
  if (!current) return { ok: false, message: `waiting for InferenceService ${isvc.metadata.name} to serve a version` };
  const mv = find(current);
  return mv ? { ok: true, modelVersion: mv } : { ok: false, message: `InferenceService ${isvc.metadata.name} serves ${current}, which does not exist` };
}

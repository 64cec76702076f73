import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ModelVersionSpec } from '../../shared/api/model-version.js';
import type { ModelMetadata } from '../../ml/metadata.js';
import { curvesOf, fineTuningFromOf, splitOf, summaryOf, type ComparedModel, type HyperparameterValue, type MetricsFileView } from './compared-model.js';

/** The slice of a ModelVersion object (as `kubectl get -o json` prints it) that a comparison reads. */
export const ModelVersionObject = Type.Object({
  kind: Type.Literal('ModelVersion'),
  metadata: Type.Object({ name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) }),
  spec: ModelVersionSpec,
  status: Type.Optional(Type.Object({ phase: Type.Optional(Type.String()), gate: Type.Optional(Type.Object({ passed: Type.Boolean() })) })),
});
export type ModelVersionObject = Static<typeof ModelVersionObject>;

/** The slice of a TrainingRun: its hyperparameters, used when the artifact's metadata.json cannot be read. */
export const TrainingRunObject = Type.Object({
  kind: Type.Literal('TrainingRun'),
  metadata: Type.Object({ name: Type.String({ minLength: 1 }) }),
  spec: Type.Object({
    architecture: Type.Optional(Type.String()),
    hyperparameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
export type TrainingRunObject = Static<typeof TrainingRunObject>;

export interface KubeObjects {
  readonly modelVersions: readonly ModelVersionObject[];
  readonly trainingRuns: readonly TrainingRunObject[];
}

/**
 * The ModelVersions and TrainingRuns in parsed `kubectl get -o json` output: one object or a
 * List (`items`). Any other kind is ignored; a ModelVersion that does not match the schema is an
 * error naming it and its first offending fields.
 */
export function parseKubeObjects(json: unknown, source: string): KubeObjects {
  const items = isList(json) ? json.items : [json];
  const modelVersions: ModelVersionObject[] = [];
  const trainingRuns: TrainingRunObject[] = [];
  for (const item of items) {
    const kind = (item as { kind?: unknown } | null)?.kind;
    if (kind === 'ModelVersion') {
      if (!Value.Check(ModelVersionObject, item)) {
        const name = (item as { metadata?: { name?: unknown } }).metadata?.name;
        const problems = [...Value.Errors(ModelVersionObject, item)].slice(0, 3).map((e) => `${e.path}: ${e.message}`);
        throw new Error(`${source}: ModelVersion ${JSON.stringify(name)} is not a valid ModelVersion (${problems.join('; ')})`);
      }
      modelVersions.push(item);
    } else if (kind === 'TrainingRun' && Value.Check(TrainingRunObject, item)) {
      trainingRuns.push(item);
    }
  }
  return { modelVersions, trainingRuns };
}

function isList(json: unknown): json is { items: unknown[] } {
  return typeof json === 'object' && json !== null && Array.isArray((json as { items?: unknown }).items);
}

/** What could be read from the ModelVersion's artifact: each part, or why it could not be. */
export interface ArtifactFiles {
  readonly metadata?: ModelMetadata;
  readonly metrics?: MetricsFileView;
  readonly problem?: string;
}

/** The TrainingRun spec's hyperparameters, flattened (augmentation.horizontalFlip → horizontalFlip). */
function runHyperparameters(run: TrainingRunObject): Record<string, HyperparameterValue> {
  const out: Record<string, HyperparameterValue> = {};
  if (run.spec.architecture) out.architecture = run.spec.architecture;
  const visit = (obj: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) visit(v as Record<string, unknown>);
      else if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v as HyperparameterValue;
      else out[k] = JSON.stringify(v);
    }
  };
  visit(run.spec.hyperparameters ?? {});
  return out;
}

/**
 * A ModelVersion as a compared model: metrics, classes and lineage from its spec (the registry's
 * record), gate and phase from its status; hyperparameters and the training curves from its
 * artifact's metadata.json and metrics.json when they could be read, else the hyperparameters
 * its TrainingRun's spec asked for (defaults not included), with a note saying so.
 */
export function modelFromModelVersion(mv: ModelVersionObject, artifact: ArtifactFiles, run: TrainingRunObject | undefined): ComparedModel {
  const { spec } = mv;
  const notes: string[] = [];
  const label = mv.metadata.name;
  if (artifact.problem) notes.push(`${label}: artifact ${spec.artifact.uri} not read (${artifact.problem})`);
  let hyperparameters: Record<string, HyperparameterValue> = {};
  if (artifact.metadata) hyperparameters = { ...artifact.metadata.hyperparameters };
  else if (run) {
    hyperparameters = runHyperparameters(run);
    notes.push(`${label}: hyperparameters as TrainingRun ${run.metadata.name} asked for them; the worker's defaults for the rest are not shown`);
  } else notes.push(`${label}: hyperparameters unknown (no readable metadata.json${spec.lineage.trainingRun ? `, TrainingRun ${spec.lineage.trainingRun} not found` : ''})`);
  const curves = artifact.metrics ? curvesOf(artifact.metrics) : undefined;
  const fineTuningFrom = artifact.metrics ? fineTuningFromOf(artifact.metrics) : undefined;
  if (!curves) notes.push(`${label}: no training curves`);
  const ece = spec.metrics.expectedCalibrationError ?? (artifact.metrics ? summaryOf(artifact.metrics).expectedCalibrationError : undefined);
  const split = splitOf(hyperparameters);
  const architecture = artifact.metadata?.architecture ?? (typeof hyperparameters.architecture === 'string' ? hyperparameters.architecture : undefined);
  const { lineage } = spec;
  return {
    label,
    uri: spec.artifact.uri,
    modelVersion: {
      name: mv.metadata.name,
      ...(mv.metadata.namespace ? { namespace: mv.metadata.namespace } : {}),
      model: spec.model,
      version: spec.version,
      ...(mv.status?.phase ? { phase: mv.status.phase } : {}),
      ...(mv.status?.gate ? { gatePassed: mv.status.gate.passed } : {}),
    },
    classes: spec.classes,
    ...(architecture ? { architecture } : {}),
    ...(spec.inputShape[0] !== undefined ? { imageSize: spec.inputShape[0] } : {}),
    metrics: { ...spec.metrics, ...(ece !== undefined ? { expectedCalibrationError: ece } : {}) },
    hyperparameters,
    lineage: {
      datasetUri: lineage.dataset.uri,
      datasetDigest: lineage.dataset.digest,
      ...(lineage.dataset.sources && lineage.dataset.sources.length > 1 ? { sources: lineage.dataset.sources } : {}),
      ...(split ? { split } : {}),
      ...(lineage.trainingRun ? { trainingRun: lineage.trainingRun } : {}),
      codeVersion: lineage.codeVersion,
      ...(lineage.backend ? { backend: lineage.backend } : {}),
      ...(lineage.workerImage ? { workerImage: lineage.workerImage } : {}),
      ...(artifact.metadata ? { createdAt: artifact.metadata.createdAt } : {}),
      sha256: spec.artifact.sha256,
    },
    ...(curves ? { curves } : {}),
    ...(fineTuningFrom !== undefined ? { fineTuningFrom } : {}),
    notes,
  };
}

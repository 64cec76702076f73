import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { API_VERSION, storageUriErrors } from './common.js';
import { BatchPrediction } from './batch-prediction.js';
import { InferenceService } from './inference-service.js';
import { ModelVersion } from './model-version.js';
import { spaceProblems, trialCount } from './sweep-space.js';
import { DEFAULT_ARCHITECTURE, imageSizeProblem, TrainingRun } from './training-run.js';
import { DEFAULT_MIN_TRIALS, earlyStoppingTrialsMessage, TrainingSweep } from './training-sweep.js';

/**
 * Parse at the boundary: an object read from the API server (or a file) becomes a deeply frozen
 * typed value, or a list of every problem found. The checks are the schema's and the CEL rules'
 * (mirrored here, since TypeBox cannot run CEL), so an object stored before a CRD upgrade is
 * judged by today's rules too.
 */

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function ensureFormats(): void {
  if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));
}

const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  ensureFormats();
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Problems the JSON schema finds, as `path: message` lines (at most 50). */
export function schemaErrors(schema: TSchema, value: unknown): string[] {
  const errors: string[] = [];
  for (const e of checker(schema).Errors(value)) {
    errors.push(`${e.path || '/'}: ${literalChoices(e.schema) ?? e.message}`);
    if (errors.length >= 50) break;
  }
  return errors;
}

/** "expected one of a, b" for a union of literals, where TypeBox only says "Expected union value". */
function literalChoices(schema: TSchema): string | undefined {
  const members: unknown = (schema as { anyOf?: unknown }).anyOf;
  if (!Array.isArray(members) || members.length === 0) return undefined;
  const values = members.map((m: { const?: unknown }) => m.const);
  return values.every((v) => typeof v === 'string') ? `expected one of ${values.join(', ')}` : undefined;
}

function parseWith<T extends TSchema>(schema: T, rules: (v: Static<T>) => string[], value: unknown): ParseResult<Static<T>> {
  const errors = schemaErrors(schema, value);
  if (errors.length > 0) return { ok: false, errors };
  const copy = structuredClone(value) as Static<T>;
  const ruleErrors = rules(copy);
  if (ruleErrors.length > 0) return { ok: false, errors: ruleErrors };
  return { ok: true, value: deepFreeze(copy) };
}

export function trainingRunRuleErrors(run: TrainingRun): string[] {
  const errors: string[] = [];
  const { spec } = run;
  errors.push(...datasetRuleErrors(spec.dataset, '/spec/dataset'));
  if (spec.outputUri !== undefined) errors.push(...storageUriErrors('outputUri', spec.outputUri).map((e) => `/spec/outputUri: ${e}`));
  const size = spec.hyperparameters?.imageSize;
  const sizeProblem = size === undefined ? undefined : imageSizeProblem(spec.architecture ?? DEFAULT_ARCHITECTURE, size);
  if (sizeProblem) errors.push(`/spec/hyperparameters/imageSize: ${sizeProblem}`);
  if (spec.split) {
    const sum = spec.split.train + spec.split.validation + spec.split.test;
    if (!(sum > 0.999 && sum < 1.001)) errors.push(`/spec/split: split fractions must sum to 1 (train + validation + test), got ${sum}`);
  }
  return errors;
}

/** The CEL rules of a TrainingRun's dataset (also inside an InferenceService's retraining template). */
function datasetRuleErrors(dataset: TrainingRun['spec']['dataset'], at: string): string[] {
  const errors: string[] = [];
  if ((dataset.uri === undefined) === (dataset.sources === undefined)) {
    errors.push(`${at}: set exactly one of dataset.uri (one class-per-folder prefix) and dataset.sources (several)`);
  }
  if (dataset.uri !== undefined) errors.push(...storageUriErrors('dataset.uri', dataset.uri).map((e) => `${at}/uri: ${e}`));
  (dataset.sources ?? []).forEach((src, i) => {
    errors.push(...storageUriErrors('dataset.sources[].uri', src.uri).map((e) => `${at}/sources/${i}/uri: ${e}`));
  });
  return errors;
}

export function modelVersionRuleErrors(mv: ModelVersion): string[] {
  return storageUriErrors('artifact.uri', mv.spec.artifact.uri).map((e) => `/spec/artifact/uri: ${e}`);
}

export function inferenceServiceRuleErrors(isvc: InferenceService): string[] {
  const errors: string[] = [];
  const { spec } = isvc;
  if ((spec.model === undefined) === (spec.modelVersion === undefined)) {
    errors.push('/spec: set exactly one of model (follow the newest passing version) and modelVersion (pin one version)');
  }
  if (spec.replicas !== undefined && spec.autoscaling !== undefined) errors.push('/spec: set replicas or autoscaling, not both');
  if (spec.autoscaling && spec.autoscaling.minReplicas > spec.autoscaling.maxReplicas) {
    errors.push('/spec/autoscaling: autoscaling.minReplicas must not exceed maxReplicas');
  }
  const rollout = spec.rollout;
  if (rollout) {
    if (rollout.strategy === 'Canary' && !rollout.steps) errors.push('/spec/rollout: rollout.steps is required when strategy is Canary');
    if (rollout.strategy !== 'Canary' && rollout.steps) errors.push('/spec/rollout: rollout.steps apply only to strategy Canary');
    const weights = (rollout.steps ?? []).map((s) => s.weight);
    if (weights.some((w, i) => i > 0 && w <= (weights[i - 1] ?? 0))) {
      errors.push('/spec/rollout/steps: canary step weights must increase strictly (for example 10, 50, 100) and stay at or below 100');
    }
  }
  if (spec.logging) errors.push(...storageUriErrors('logging.uri', spec.logging.uri).map((e) => `/spec/logging/uri: ${e}`));
  if (spec.retraining) {
    const template = spec.retraining.template;
    errors.push(...datasetRuleErrors(template.dataset, '/spec/retraining/template/dataset'));
    if (spec.model !== undefined && template.model !== spec.model) {
      errors.push('/spec: retraining.template.model must be the model this InferenceService follows, or the retrained version would never be served here');
    }
    if (template.outputUri !== undefined) {
      errors.push("/spec: retraining.template.outputUri must be left out: every retraining run writes its own artifact under the operator's artifact root");
    }
  }
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(isvc.metadata.name) || isvc.metadata.name.length > 40) {
    errors.push('/metadata/name: InferenceService names become Service names: lowercase letters, digits and -, starting with a letter, at most 40 characters');
  }
  return errors;
}

export function batchPredictionRuleErrors(bp: BatchPrediction): string[] {
  const errors: string[] = [];
  const { spec } = bp;
  errors.push(...storageUriErrors('input.uri', spec.input.uri).map((e) => `/spec/input/uri: ${e}`));
  if (spec.outputUri !== undefined) {
    errors.push(...storageUriErrors('outputUri', spec.outputUri).map((e) => `/spec/outputUri: ${e}`));
    const input = spec.input.uri.endsWith('/') ? spec.input.uri : `${spec.input.uri}/`;
    if (`${spec.outputUri}/`.startsWith(input)) {
      errors.push('/spec: outputUri must not be inside input.uri: the results would be read as images by the next batch over that prefix');
    }
  }
  if ((spec.model.modelVersion === undefined) === (spec.model.inferenceService === undefined)) {
    errors.push('/spec/model: set exactly one of model.modelVersion (a registered version) and model.inferenceService (the version that service serves)');
  }
  return errors;
}

export function trainingSweepRuleErrors(sweep: TrainingSweep): string[] {
  const { spec } = sweep;
  const errors = trainingRunRuleErrors({ ...sweep, apiVersion: API_VERSION, kind: 'TrainingRun', spec: spec.template, status: {} }).map((e) =>
    e.replace(/^\/spec/, '/spec/template'),
  );
  if (spec.template.outputUri !== undefined) {
    errors.push("/spec: template.outputUri must be left out: every trial writes its own artifact under the operator's artifact root");
  }
  if (spec.search.algorithm === 'Random' && spec.maxTrials === undefined) errors.push('/spec: maxTrials is required for a Random search: it is the number of draws');
  if (spec.search.algorithm !== 'Random' && spec.search.seed !== undefined) errors.push('/spec/search: search.seed applies only to the Random algorithm');
  errors.push(...new Set(spaceProblems(spec)));
  if (spec.earlyStopping && (spec.earlyStopping.minTrials ?? DEFAULT_MIN_TRIALS) >= trialCount(spec)) {
    errors.push(`/spec/earlyStopping: ${earlyStoppingTrialsMessage}, got minTrials ${spec.earlyStopping.minTrials ?? DEFAULT_MIN_TRIALS} for ${trialCount(spec)} trials`);
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(sweep.metadata.name) || sweep.metadata.name.length > 40) {
    errors.push("/metadata/name: TrainingSweep names become the prefix of their trials' TrainingRun names: lowercase letters, digits and -, at most 40 characters");
  }
  return errors;
}

/** A TrainingRun as read from the API server, checked and frozen. */
export function parseTrainingRun(value: unknown): ParseResult<TrainingRun> {
  return parseWith(TrainingRun, trainingRunRuleErrors, value);
}

/** A ModelVersion as read from the API server, checked and frozen. */
export function parseModelVersion(value: unknown): ParseResult<ModelVersion> {
  return parseWith(ModelVersion, modelVersionRuleErrors, value);
}

/** An InferenceService as read from the API server, checked and frozen. */
export function parseInferenceService(value: unknown): ParseResult<InferenceService> {
  return parseWith(InferenceService, inferenceServiceRuleErrors, value);
}

/** A BatchPrediction as read from the API server, checked and frozen. */
export function parseBatchPrediction(value: unknown): ParseResult<BatchPrediction> {
  return parseWith(BatchPrediction, batchPredictionRuleErrors, value);
}

/** A TrainingSweep as read from the API server, checked and frozen. */
export function parseTrainingSweep(value: unknown): ParseResult<TrainingSweep> {
  return parseWith(TrainingSweep, trainingSweepRuleErrors, value);
}

/** One-line summary of a failed parse, for a condition message. */
export function describeErrors(errors: readonly string[], limit = 5): string {
  const shown = errors.slice(0, limit).join('; ');
  return errors.length > limit ? `${shown}; and ${errors.length - limit} more` : shown;
}

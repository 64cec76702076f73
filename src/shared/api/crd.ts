import type { TSchema } from '@sinclair/typebox';
import {
  BATCH_PREDICTION_KIND,
  BATCH_PREDICTION_PLURAL,
  BatchPredictionPhases,
  BatchPredictionReasons,
  BatchPredictionSpec,
  BatchPredictionStatus,
} from './batch-prediction.js';
import { API_VERSION, GROUP, VERSION, type CelRule } from './common.js';
import {
  INFERENCE_SERVICE_KIND,
  INFERENCE_SERVICE_PLURAL,
  InferenceServicePhases,
  InferenceServiceReasons,
  InferenceServiceSpec,
  InferenceServiceStatus,
} from './inference-service.js';
import { MODEL_VERSION_KIND, MODEL_VERSION_PLURAL, ModelVersionPhases, ModelVersionReasons, ModelVersionSpec, ModelVersionStatus } from './model-version.js';
import { TRAINING_RUN_KIND, TRAINING_RUN_PLURAL, TrainingRunPhases, TrainingRunReasons, TrainingRunSpec, TrainingRunStatus } from './training-run.js';
import {
  TRAINING_SWEEP_KIND,
  TRAINING_SWEEP_PLURAL,
  TrainingSweepPhases,
  TrainingSweepReasons,
  TrainingSweepSpec,
  TrainingSweepStatus,
} from './training-sweep.js';

/**
 * Turns the TypeBox schemas of Kennel's kinds into apiextensions.k8s.io/v1
 * CustomResourceDefinitions. Pure: `scripts/gen-crds.ts` writes the result to crds/ and a test
 * fails when crds/ drifts from it.
 *
 * The output must be a *structural* schema (every node typed, no anyOf except the
 * int-or-string pattern, no `const`, no patternProperties), so the conversion is strict: a
 * schema keyword it does not know is an error, not silently dropped.
 */

/** An OpenAPI v3 schema node as Kubernetes stores it (JSONSchemaProps). */
export interface JsonSchemaProps {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  pattern?: string;
  enum?: (string | number | boolean)[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, JsonSchemaProps>;
  additionalProperties?: JsonSchemaProps;
  items?: JsonSchemaProps;
  anyOf?: JsonSchemaProps[];
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  /** Status phases and condition reasons, for the reference documentation. */
  phases: readonly string[];
  reasons: readonly string[];
  /** CEL rules on the whole object (e.g. on metadata.name). */
  rootRules?: CelRule[];
  printerColumns: PrinterColumn[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

/**
 * Kennel's kinds. Short names avoid KServe (`isvc`, `inferenceservice`) and Knative (`ksvc`,
 * `rev`, `route`, `config`) so both can live in one cluster.
 */
export const KINDS: readonly KindDefinition[] = [
  {
    kind: TRAINING_RUN_KIND,
    plural: TRAINING_RUN_PLURAL,
    singular: 'trainingrun',
    shortNames: ['ktr'],
    description: 'TrainingRun trains an image classifier in a Job and, on success, registers a ModelVersion.',
    spec: TrainingRunSpec,
    status: TrainingRunStatus,
    phases: TrainingRunPhases,
    reasons: Object.values(TrainingRunReasons),
    printerColumns: [
      { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Logical model name.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Running, Succeeded or Failed.' },
      { name: 'Progress', type: 'string', jsonPath: '.status.progress.summary', description: 'Epochs completed.' },
      { name: 'Val-Accuracy', type: 'number', jsonPath: '.status.progress.valAccuracy', description: 'Latest validation accuracy.' },
      { name: 'Accuracy', type: 'number', jsonPath: '.status.accuracy', description: 'Test accuracy of the trained model.' },
      { name: 'Version', type: 'string', jsonPath: '.status.modelVersion', description: 'ModelVersion registered.' },
      { name: 'Reason', type: 'string', jsonPath: '.status.failure.reason', description: 'Why the run failed.', priority: 1 },
      age,
    ],
  },
  {
    kind: MODEL_VERSION_KIND,
    plural: MODEL_VERSION_PLURAL,
    singular: 'modelversion',
    shortNames: ['kmv'],
    description: 'ModelVersion is an immutable registry entry for a trained model: artifact, metrics, lineage and gate verdict.',
    spec: ModelVersionSpec,
    status: ModelVersionStatus,
    phases: ModelVersionPhases,
    reasons: Object.values(ModelVersionReasons),
    printerColumns: [
      { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Logical model name.' },
      { name: 'Version', type: 'integer', jsonPath: '.spec.version', description: 'Version number.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Evaluated, Passed, Rejected, Serving or Retired.' },
      { name: 'Accuracy', type: 'number', jsonPath: '.spec.metrics.accuracy', description: 'Test accuracy.' },
      { name: 'F1', type: 'number', jsonPath: '.spec.metrics.f1', description: 'Macro F1 on the test split.', priority: 1 },
      { name: 'Gate', type: 'boolean', jsonPath: '.status.gate.passed', description: 'Whether the gate passed.' },
      {
        name: 'Eligible',
        type: 'string',
        jsonPath: ".metadata.annotations.kennel\\.dev/serving-eligible",
        description: 'The kennel.dev/serving-eligible annotation: "false" for a TrainingSweep\'s trials but its best (blank: eligible).',
      },
      age,
    ],
  },
  {
    kind: INFERENCE_SERVICE_KIND,
    plural: INFERENCE_SERVICE_PLURAL,
    singular: 'inferenceservice',
    shortNames: ['kis'],
    description: 'InferenceService serves a ModelVersion over HTTP and rolls new versions out with automatic rollback.',
    spec: InferenceServiceSpec,
    status: InferenceServiceStatus,
    phases: InferenceServicePhases,
    reasons: Object.values(InferenceServiceReasons),
    rootRules: [
      {
        rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 40",
        message: 'InferenceService names become Service names: lowercase letters, digits and -, starting with a letter, at most 40 characters',
        fieldPath: '.metadata',
      },
    ],
    printerColumns: [
      { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Followed model.' },
      { name: 'Serving', type: 'string', jsonPath: '.status.currentModelVersion', description: 'ModelVersion serving.' },
      { name: 'Canary', type: 'string', jsonPath: '.status.canary.modelVersion', description: 'ModelVersion being rolled out.' },
      { name: 'Weight', type: 'integer', jsonPath: '.status.canary.weight', description: 'Canary weight in percent.' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready serving pods.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Progressing, Ready or Degraded.' },
      { name: 'URL', type: 'string', jsonPath: '.status.url', description: 'In-cluster URL.', priority: 1 },
      age,
    ],
  },
  {
    kind: BATCH_PREDICTION_KIND,
    plural: BATCH_PREDICTION_PLURAL,
    singular: 'batchprediction',
    shortNames: ['kbp'],
    description: 'BatchPrediction classifies every image under a storage prefix with a ModelVersion, as an Indexed Job of parallel pods, into JSON Lines and a summary.',
    spec: BatchPredictionSpec,
    status: BatchPredictionStatus,
    phases: BatchPredictionPhases,
    reasons: Object.values(BatchPredictionReasons),
    printerColumns: [
      { name: 'Model-Version', type: 'string', jsonPath: '.status.modelVersion', description: 'ModelVersion classifying.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Running, Succeeded or Failed.' },
      { name: 'Progress', type: 'string', jsonPath: '.status.progress.summary', description: 'Images done of all.' },
      { name: 'Failed', type: 'integer', jsonPath: '.status.progress.failed', description: 'Unreadable images.' },
      { name: 'Shards', type: 'integer', jsonPath: '.status.shards', description: 'Pods (one shard each).' },
      { name: 'Output', type: 'string', jsonPath: '.status.outputUri', description: 'Where the results are.', priority: 1 },
      { name: 'Reason', type: 'string', jsonPath: '.status.failure.reason', description: 'Why the batch failed.', priority: 1 },
      age,
    ],
  },
  {
    kind: TRAINING_SWEEP_KIND,
    plural: TRAINING_SWEEP_PLURAL,
    singular: 'trainingsweep',
    shortNames: ['kts'],
    description:
      'TrainingSweep runs one TrainingRun per trial of a search space (grid or random), at most parallelism at once, ranks them by an objective and marks only the best trial\'s ModelVersion eligible for serving.',
    spec: TrainingSweepSpec,
    status: TrainingSweepStatus,
    phases: TrainingSweepPhases,
    reasons: Object.values(TrainingSweepReasons),
    rootRules: [
      {
        rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 40",
        message: 'TrainingSweep names become the prefix of their trials\' TrainingRun names: lowercase letters, digits and -, at most 40 characters',
        fieldPath: '.metadata',
      },
    ],
    printerColumns: [
      { name: 'Model', type: 'string', jsonPath: '.spec.template.model', description: 'Logical model name of every trial.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Running, Succeeded or Failed.' },
      { name: 'Trials', type: 'string', jsonPath: '.status.summary', description: 'Trials finished of all.' },
      { name: 'Running', type: 'integer', jsonPath: '.status.running', description: 'Trials running now.' },
      { name: 'Best', type: 'string', jsonPath: '.status.best.modelVersion', description: 'The best trial\'s ModelVersion.' },
      { name: 'Objective', type: 'number', jsonPath: '.status.best.value', description: 'Its objective value.' },
      { name: 'Metric', type: 'string', jsonPath: '.status.objective', description: 'The objective.', priority: 1 },
      { name: 'Stopped', type: 'integer', jsonPath: '.status.stopped', description: 'Trials stopped early.', priority: 1 },
      age,
    ],
  },
];

const COPIED_KEYS = [
  'description',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'maxProperties',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
] as const;
const HANDLED_KEYS = new Set<string>([
  ...COPIED_KEYS,
  'type',
  'properties',
  'required',
  'items',
  'anyOf',
  'const',
  'patternProperties',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'x-kubernetes-int-or-string',
  'additionalProperties',
]);
const SIMPLE_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

type Raw = Record<string, unknown>;

/** Converts one TypeBox schema node (plain JSON view) into a structural JSONSchemaProps. */
export function toStructural(schema: TSchema, path = '$'): JsonSchemaProps {
  const raw = JSON.parse(JSON.stringify(schema)) as Raw;
  return convert(raw, path);
}

function convert(raw: Raw, path: string): JsonSchemaProps {
  for (const key of Object.keys(raw)) {
    if (!HANDLED_KEYS.has(key)) throw new Error(`${path}: schema keyword "${key}" has no structural CRD equivalent`);
  }
  const out: JsonSchemaProps = {};
  if (typeof raw.description === 'string') out.description = raw.description;

  if (Array.isArray(raw.anyOf)) {
    const members = raw.anyOf as Raw[];
    if (raw['x-kubernetes-int-or-string'] === true) {
      const str = members.find((m) => m.type === 'string');
      out.anyOf = [{ type: 'integer' }, { type: 'string' }];
      if (str && typeof str.pattern === 'string') out.pattern = str.pattern;
      out['x-kubernetes-int-or-string'] = true;
    } else if (members.every((m) => typeof m.const === 'string')) {
      out.type = 'string';
      out.enum = members.map((m) => m.const as string);
    } else {
      throw new Error(`${path}: only unions of string literals or int-or-string can be structural`);
    }
  } else if ('const' in raw) {
    const value = raw.const;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Error(`${path}: const must be a scalar`);
    }
    out.type = typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : 'number';
    out.enum = [value];
  } else if (typeof raw.type === 'string' && SIMPLE_TYPES.has(raw.type)) {
    out.type = raw.type as JsonSchemaProps['type'];
  } else if (raw['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${path}: every node of a structural schema needs a type`);
  }

  for (const key of COPIED_KEYS) {
    if (key === 'description') continue;
    if (raw[key] !== undefined) (out as Raw)[key] = raw[key];
  }
  if (typeof raw.exclusiveMinimum === 'number') {
    out.minimum = raw.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (typeof raw.exclusiveMaximum === 'number') {
    out.maximum = raw.exclusiveMaximum;
    out.exclusiveMaximum = true;
  }

  if (raw.properties && typeof raw.properties === 'object') {
    out.properties = {};
    for (const [name, child] of Object.entries(raw.properties as Record<string, Raw>)) {
      out.properties[name] = convert(child, `${path}.${name}`);
    }
    if (Array.isArray(raw.required) && raw.required.length > 0) out.required = [...(raw.required as string[])];
  }
  if (raw.patternProperties && typeof raw.patternProperties === 'object') {
    const values = Object.values(raw.patternProperties as Record<string, Raw>);
    if (values.length !== 1 || values[0] === undefined) throw new Error(`${path}: only single-pattern records are supported`);
    out.additionalProperties = convert(values[0], `${path}.*`);
  } else if (raw.additionalProperties !== undefined && raw.additionalProperties !== false) {
    if (typeof raw.additionalProperties !== 'object') throw new Error(`${path}: additionalProperties must be a schema`);
    out.additionalProperties = convert(raw.additionalProperties as Raw, `${path}.*`);
  }
  if (raw.items && typeof raw.items === 'object') out.items = convert(raw.items as Raw, `${path}[]`);
  return out;
}

/** The CRD of one kind. */
export function buildCrd(def: KindDefinition): CustomResourceDefinition {
  const root: JsonSchemaProps = {
    description: def.description,
    type: 'object',
    properties: {
      apiVersion: { description: `APIVersion of the object: ${API_VERSION}.`, type: 'string' },
      kind: { description: `Kind of the object: ${def.kind}.`, type: 'string' },
      metadata: { type: 'object' },
      spec: toStructural(def.spec, `${def.kind}.spec`),
      status: toStructural(def.status, `${def.kind}.status`),
    },
    required: ['spec'],
  };
  if (def.rootRules) root['x-kubernetes-validations'] = def.rootRules;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kennel', 'app.kubernetes.io/part-of': 'kennel' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['kennel'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: root },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

/** Every CRD, keyed by the file name it is written to under crds/. */
export function buildCrds(): Map<string, CustomResourceDefinition> {
  return new Map(KINDS.map((def) => [`${def.plural}.${GROUP}.yaml`, buildCrd(def)]));
}

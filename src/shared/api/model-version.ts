import { Type, type Static } from '@sinclair/typebox';
import { Conditions, DNS_LABEL_PATTERN, Resource, StorageUri, StringEnum, type KubeSchemaOptions } from './common.js';
import { EvaluationGate, GateMetrics } from './training-run.js';
import { DatasetSourceLineage, MetricsSummary } from './worker-report.js';

/**
 * ModelVersion: one entry of the model registry — an immutable record of a trained artifact,
 * its metrics and its lineage. Created by the operator when a TrainingRun succeeds (or by a user
 * importing an artifact). It has no owner: it outlives the run, so a GitOps prune of the run
 * never erases the registry.
 */

export const MODEL_VERSION_KIND = 'ModelVersion';
export const MODEL_VERSION_PLURAL = 'modelversions';

export const ArtifactFormats = ['tfjs-layers'] as const;
export type ArtifactFormat = (typeof ArtifactFormats)[number];

export const ModelVersionSpec = Type.Object(
  {
    model: Type.String({
      description: 'Logical model name this version belongs to.',
      minLength: 1,
      maxLength: 40,
      pattern: DNS_LABEL_PATTERN,
    }),
    version: Type.Integer({ description: 'Version number, monotonic per model (1, 2, 3 ...).', minimum: 1 }),
    artifact: Type.Object(
      {
        uri: StorageUri('artifact.uri', 'Storage prefix holding model.json, weights.bin, metadata.json, metrics.json and report/.'),
        format: StringEnum(ArtifactFormats, { description: 'Artifact format: tfjs-layers (TensorFlow.js layers model).' }),
        sha256: Type.String({ description: 'sha256 of weights.bin (hex); checked when the model is loaded.', pattern: '^[a-f0-9]{64}$' }),
      },
      { description: 'Where the trained model is stored and how to verify it.' },
    ),
    classes: Type.Array(Type.String({ description: 'A class label.', minLength: 1, maxLength: 253 }), {
      description: 'Class labels in the order of the model\'s output.',
      minItems: 2,
      maxItems: 1000,
    }),
    inputShape: Type.Array(Type.Integer({ description: 'One dimension.', minimum: 1 }), {
      description: 'Input shape of one image: [height, width, channels].',
      minItems: 3,
      maxItems: 3,
    }),
    metrics: MetricsSummary,
    lineage: Type.Object(
      {
        trainingRun: Type.Optional(Type.String({ description: 'Name of the TrainingRun that produced this version (same namespace).' })),
        trainingRunUid: Type.Optional(Type.String({ description: 'UID of that TrainingRun, so a run registers exactly one version.' })),
        dataset: Type.Object(
          {
            uri: Type.String({ description: 'Dataset prefix the model was trained on (the first source when there are several).' }),
            digest: Type.String({ description: 'Digest of the whole training set: its images\' content and labels, every source together.' }),
            sources: Type.Optional(
              Type.Array(DatasetSourceLineage, {
                description: 'Every source the model was trained on, in order, each with its own digest (e.g. the base set and a prediction log\'s corrections).',
                maxItems: 16,
              }),
            ),
          },
          { description: 'The data the model was trained on.' },
        ),
        workerImage: Type.Optional(Type.String({ description: 'Worker image that trained the model.' })),
        codeVersion: Type.String({ description: 'Kennel code version of the worker.' }),
        backend: Type.Optional(Type.String({ description: 'TensorFlow.js backend used for training.' })),
      },
      { description: 'Where this version came from.' },
    ),
    gate: Type.Optional(EvaluationGate),
  },
  {
    description: 'The registered artifact; immutable once created.',
    'x-kubernetes-validations': [
      {
        rule: 'self == oldSelf',
        message: 'ModelVersion spec is immutable: it records a trained artifact; create a new ModelVersion instead',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type ModelVersionSpec = Static<typeof ModelVersionSpec>;

export const ModelVersionPhases = ['Evaluated', 'Passed', 'Rejected', 'Serving', 'Retired'] as const;
export type ModelVersionPhase = (typeof ModelVersionPhases)[number];

export const ModelVersionReasons = {
  GatePassed: 'GatePassed',
  GateFailed: 'GateFailed',
  Serving: 'Serving',
  Retired: 'Retired',
  Evaluating: 'Evaluating',
  InvalidSpec: 'InvalidSpec',
} as const;
export type ModelVersionReason = (typeof ModelVersionReasons)[keyof typeof ModelVersionReasons];

/** The effective gate policy (spec.gate with the operator's defaults filled in). */
export const GatePolicy = Type.Object(
  {
    minAccuracy: Type.Optional(Type.Number({ description: 'Minimum test accuracy applied.' })),
    minF1: Type.Optional(Type.Number({ description: 'Minimum macro F1 applied.' })),
    minClassRecall: Type.Optional(Type.Number({ description: 'Minimum per-class recall applied.' })),
    mustBeatChampion: Type.Optional(
      Type.Object(
        {
          metric: StringEnum(GateMetrics, { description: 'Metric compared with the champion.' }),
          margin: Type.Number({ description: 'Required improvement over the champion.' }),
        },
        { description: 'Champion comparison applied.' },
      ),
    ),
  },
  { description: 'The thresholds actually applied, defaults included.' },
);
export type GatePolicy = Static<typeof GatePolicy>;

export const ModelVersionStatus = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(ModelVersionPhases, { description: 'Evaluated, Passed, Rejected, Serving or Retired.' }),
    ),
    observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this status describes.', minimum: 0 })),
    gate: Type.Optional(
      Type.Object(
        {
          passed: Type.Boolean({ description: 'Whether the version passed its evaluation gate.' }),
          policy: GatePolicy,
          comparedTo: Type.Optional(
            Type.String({ description: 'The champion ModelVersion it was compared with, when mustBeatChampion applied.' }),
          ),
          reasons: Type.Array(Type.String({ description: 'One finding.' }), {
            description: 'Each threshold checked, met or not, for a person.',
            maxItems: 1100,
          }),
          evaluatedAt: Type.String({ description: 'When the gate was evaluated (RFC 3339); it is never re-evaluated.', format: 'date-time' }),
        },
        { description: 'The evaluation gate\'s verdict, decided once.' },
      ),
    ),
    servingBy: Type.Optional(
      Type.Array(Type.String({ description: 'An InferenceService name.' }), {
        description: 'InferenceServices (same namespace) now serving this version as stable or canary.',
        maxItems: 100,
      }),
    ),
    conditions: Type.Optional(Conditions()),
  },
  { description: 'What the operator decided about this version; written only by the operator.' },
);
export type ModelVersionStatus = Static<typeof ModelVersionStatus>;

export const ModelVersion = Resource(MODEL_VERSION_KIND, ModelVersionSpec, ModelVersionStatus);
export type ModelVersion = Static<typeof ModelVersion>;

import { Type, type Static } from '@sinclair/typebox';
import {
  Conditions,
  DNS_LABEL_PATTERN,
  Duration,
  ResourceRequirements,
  Resource,
  StringEnum,
  type KubeSchemaOptions,
} from './common.js';

/**
 * InferenceService: serve a model over HTTP. Follows the newest ModelVersion of `model` that
 * passed its gate, or a pinned `modelVersion`; owns a Deployment per served version, a Service,
 * a PodMonitoring, an optional HPA and a PodDisruptionBudget, and rolls new versions out
 * (rolling or canary with analysis), rolling back automatically when a rollout fails.
 */

export const INFERENCE_SERVICE_KIND = 'InferenceService';
export const INFERENCE_SERVICE_PLURAL = 'inferenceservices';

export const RolloutStrategies = ['Rolling', 'Canary'] as const;
export type RolloutStrategy = (typeof RolloutStrategies)[number];

export const CanaryStep = Type.Object(
  {
    weight: Type.Integer({
      description:
        'Share of the replicas (percent, 1..100) running the new version during this step. Traffic splits by ready pods, so the share is rounded to whole pods, at least one: with 2 replicas a 25 % step runs 1 of 2 pods, which is 50 % of the traffic.',
      minimum: 1,
      maximum: 100,
    }),
    pauseSeconds: Type.Optional(
      Type.Integer({ description: 'How long to hold this step once its pods are ready before judging it (default 60).', minimum: 0, maximum: 86400 }),
    ),
  },
  { description: 'One canary step.' },
);
export type CanaryStep = Static<typeof CanaryStep>;

export const CanaryAnalysis = Type.Object(
  {
    maxErrorRate: Type.Optional(
      Type.Number({ description: 'Highest acceptable share of failed (5xx) requests on the canary pods (0..1).', minimum: 0, maximum: 1 }),
    ),
    maxP95LatencyMs: Type.Optional(
      Type.Number({ description: 'Highest acceptable 95th percentile latency of the canary pods, in milliseconds.', exclusiveMinimum: 0 }),
    ),
    minMeanConfidence: Type.Optional(
      Type.Number({ description: 'Lowest acceptable mean top-class confidence of the canary\'s predictions (0..1).', minimum: 0, maximum: 1 }),
    ),
    maxConfidenceDrift: Type.Optional(
      Type.Number({
        description: 'Largest acceptable distance between the canary\'s mean confidence and the ModelVersion\'s baseline mean confidence (0..1).',
        minimum: 0,
        maximum: 1,
      }),
    ),
    minRequests: Type.Optional(
      Type.Integer({
        description: 'Requests the canary must have answered in the window for a verdict; fewer = keep waiting (until the progress deadline). Default 0.',
        minimum: 0,
      }),
    ),
    window: Type.Optional(Duration('Time window the canary\'s metrics are measured over, e.g. 2m (default 1m).')),
  },
  { description: 'Judges each canary step on the canary pods\' own metrics; a failed analysis rolls back.' },
);
export type CanaryAnalysis = Static<typeof CanaryAnalysis>;

export const InferenceServiceSpec = Type.Object(
  {
    model: Type.Optional(
      Type.String({
        description: 'Follow this model: serve its newest ModelVersion that passed its gate. Exactly one of model and modelVersion.',
        minLength: 1,
        maxLength: 40,
        pattern: DNS_LABEL_PATTERN,
      }),
    ),
    modelVersion: Type.Optional(
      Type.String({
        description: 'Pin this ModelVersion (by name, same namespace). Exactly one of model and modelVersion.',
        minLength: 1,
        maxLength: 253,
      }),
    ),
    replicas: Type.Optional(
      Type.Integer({ description: 'Number of serving pods (default 1). Not with autoscaling.', minimum: 0, maximum: 1000 }),
    ),
    autoscaling: Type.Optional(
      Type.Object(
        {
          minReplicas: Type.Integer({ description: 'Fewest serving pods.', minimum: 1, maximum: 1000 }),
          maxReplicas: Type.Integer({ description: 'Most serving pods.', minimum: 1, maximum: 1000 }),
          targetCPUUtilization: Type.Optional(
            Type.Integer({ description: 'Target average CPU utilisation in percent of requests (default 70).', minimum: 1, maximum: 100 }),
          ),
        },
        {
          description: 'Scale the serving pods with a HorizontalPodAutoscaler (autoscaling/v2). Not with replicas.',
          'x-kubernetes-validations': [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'autoscaling.minReplicas must not exceed maxReplicas' }],
        } satisfies KubeSchemaOptions,
      ),
    ),
    rollout: Type.Optional(
      Type.Object(
        {
          strategy: StringEnum(RolloutStrategies, {
            description: 'Rolling: start the new version beside the old and switch once it is ready. Canary: move traffic in steps, judging each.',
          }),
          steps: Type.Optional(
            Type.Array(CanaryStep, {
              description: 'Canary steps with strictly increasing weights, e.g. 10, 50, 100 (Canary only).',
              minItems: 1,
              maxItems: 20,
              'x-kubernetes-list-type': 'atomic',
              'x-kubernetes-validations': [
                {
                  rule: 'self.all(a, self.exists_one(b, b.weight == a.weight)) && self.map(s, s.weight).isSorted()',
                  message: 'canary step weights must increase strictly (for example 10, 50, 100) and stay at or below 100',
                },
              ],
            } satisfies KubeSchemaOptions),
          ),
          analysis: Type.Optional(CanaryAnalysis),
          progressDeadlineSeconds: Type.Optional(
            Type.Integer({
              description: 'Seconds a step may wait for its pods to become ready (or its analysis to have enough data) before the rollout is rolled back (default 600).',
              minimum: 1,
              maximum: 86400,
            }),
          ),
        },
        {
          description: 'How a new version replaces the one serving.',
          'x-kubernetes-validations': [
            { rule: "self.strategy != 'Canary' || has(self.steps)", message: 'rollout.steps is required when strategy is Canary' },
            { rule: "self.strategy == 'Canary' || !has(self.steps)", message: 'rollout.steps apply only to strategy Canary' },
          ],
        } satisfies KubeSchemaOptions,
      ),
    ),
    resources: Type.Optional(ResourceRequirements),
    monitoring: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Create a PodMonitoring for the serving pods (default true).' })),
          interval: Type.Optional(Duration('Scrape interval, e.g. 30s (default 30s).')),
        },
        { description: 'Prometheus scraping through a monitoring.googleapis.com/v1 PodMonitoring.' },
      ),
    ),
    minConfidence: Type.Optional(
      Type.Number({
        description:
          'Below this top-class probability (0..1) the server answers label null, with the probabilities, and counts the answer in kennel_serve_unsure_predictions_total: a photo of something the model was not trained on should not become a confident class. Default 0: always a label. The probabilities are calibrated (temperature scaling) for pretrained models.',
        minimum: 0,
        maximum: 1,
      }),
    ),
    port: Type.Optional(
      Type.Integer({ description: 'Port of the Service (default 80); the pods listen on 8080.', minimum: 1, maximum: 65535 }),
    ),
    image: Type.Optional(
      Type.String({ description: 'Server image override; default: the operator\'s KENNEL_WORKER_IMAGE.', minLength: 1, maxLength: 512 }),
    ),
    serviceAccountName: Type.Optional(
      Type.String({
        description: 'Service account of the serving pods; default: the operator\'s KENNEL_SERVICE_ACCOUNT.',
        minLength: 1,
        maxLength: 253,
      }),
    ),
  },
  {
    description: 'Which model to serve and how.',
    'x-kubernetes-validations': [
      {
        rule: 'has(self.model) != has(self.modelVersion)',
        message: 'set exactly one of model (follow the newest passing version) and modelVersion (pin one version)',
      },
      { rule: '!(has(self.replicas) && has(self.autoscaling))', message: 'set replicas or autoscaling, not both' },
    ],
  } satisfies KubeSchemaOptions,
);
export type InferenceServiceSpec = Static<typeof InferenceServiceSpec>;

export const InferenceServicePhases = ['Pending', 'Progressing', 'Ready', 'Degraded'] as const;
export type InferenceServicePhase = (typeof InferenceServicePhases)[number];

export const HistoryReasons = ['Initial', 'Promoted', 'RolledBack', 'Pinned'] as const;
export type HistoryReason = (typeof HistoryReasons)[number];

export const InferenceServiceReasons = {
  NoEligibleVersion: 'NoEligibleVersion',
  ModelVersionNotFound: 'ModelVersionNotFound',
  ModelVersionRejected: 'ModelVersionRejected',
  Deploying: 'Deploying',
  PodsNotReady: 'PodsNotReady',
  Serving: 'Serving',
  CanaryProgressing: 'CanaryProgressing',
  CanaryPaused: 'CanaryPaused',
  AnalysisFailed: 'AnalysisFailed',
  AnalysisInconclusive: 'AnalysisInconclusive',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  RolledBack: 'RolledBack',
  Promoting: 'Promoting',
  Promoted: 'Promoted',
  PodMonitoringUnavailable: 'PodMonitoringUnavailable',
  PodMonitoringCreated: 'PodMonitoringCreated',
  MonitoringDisabled: 'MonitoringDisabled',
  InvalidSpec: 'InvalidSpec',
} as const;
export type InferenceServiceReason = (typeof InferenceServiceReasons)[keyof typeof InferenceServiceReasons];

export const HistoryEntry = Type.Object(
  {
    modelVersion: Type.String({ description: 'The ModelVersion that served.' }),
    version: Type.Optional(Type.Integer({ description: 'Its version number.' })),
    from: Type.String({ description: 'When it started serving (RFC 3339).', format: 'date-time' }),
    to: Type.Optional(Type.String({ description: 'When it stopped serving (RFC 3339); absent while it serves.', format: 'date-time' })),
    reason: StringEnum(HistoryReasons, { description: 'Why it started serving or why the attempt ended: Initial, Promoted, RolledBack, Pinned.' }),
    message: Type.String({ description: 'What happened, for a person.' }),
  },
  { description: 'One period of a version serving (or of a canary that was rolled back).' },
);
export type HistoryEntry = Static<typeof HistoryEntry>;

export const CanaryState = Type.Object(
  {
    modelVersion: Type.String({ description: 'The ModelVersion being rolled out.' }),
    step: Type.Integer({ description: 'Index of the current step in rollout.steps (0-based).', minimum: 0 }),
    weight: Type.Integer({ description: 'Current weight of the new version in percent.', minimum: 0, maximum: 100 }),
    startedAt: Type.String({ description: 'When the rollout of this version began (RFC 3339).', format: 'date-time' }),
    stepStartedAt: Type.String({ description: 'When the current step began (RFC 3339).', format: 'date-time' }),
    readyAt: Type.Optional(
      Type.String({ description: 'When the current step\'s pods were first all ready (RFC 3339); its pause counts from here.', format: 'date-time' }),
    ),
    lastAnalysis: Type.Optional(Type.String({ description: 'Outcome of the latest analysis, for a person.' })),
  },
  { description: 'A rollout in progress.' },
);
export type CanaryState = Static<typeof CanaryState>;

export const FailedRollout = Type.Object(
  {
    modelVersion: Type.String({ description: 'The ModelVersion whose rollout failed.' }),
    generation: Type.Integer({ description: 'metadata.generation when it failed; a pinned version is retried only after the spec changes.' }),
    reason: Type.String({ description: 'Why it was rolled back.' }),
  },
  { description: 'A version that was rolled back here and is not retried automatically.' },
);
export type FailedRollout = Static<typeof FailedRollout>;

export const InferenceServiceStatus = Type.Object(
  {
    phase: Type.Optional(StringEnum(InferenceServicePhases, { description: 'Pending, Progressing, Ready or Degraded.' })),
    observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this status describes.', minimum: 0 })),
    url: Type.Optional(Type.String({ description: 'In-cluster URL of the Service.' })),
    currentModelVersion: Type.Optional(Type.String({ description: 'The ModelVersion serving (the stable one).' })),
    currentVersion: Type.Optional(Type.Integer({ description: 'Version number of currentModelVersion.' })),
    targetModelVersion: Type.Optional(Type.String({ description: 'The ModelVersion the spec asks for (newest passing, or pinned).' })),
    canary: Type.Optional(CanaryState),
    replicas: Type.Optional(Type.Integer({ description: 'Serving pods wanted, all versions together.', minimum: 0 })),
    readyReplicas: Type.Optional(Type.Integer({ description: 'Serving pods ready, all versions together.', minimum: 0 })),
    history: Type.Optional(
      Type.Array(HistoryEntry, { description: 'Which version served, from when, and why it changed (newest last, at most 20).', maxItems: 20 }),
    ),
    failedRollouts: Type.Optional(
      Type.Array(FailedRollout, { description: 'Versions rolled back here, never retried automatically (newest last, at most 20).', maxItems: 20 }),
    ),
    conditions: Type.Optional(Conditions()),
  },
  { description: 'What is serving and how the rollout goes; written only by the operator.' },
);
export type InferenceServiceStatus = Static<typeof InferenceServiceStatus>;

export const InferenceService = Resource(INFERENCE_SERVICE_KIND, InferenceServiceSpec, InferenceServiceStatus);
export type InferenceService = Static<typeof InferenceService>;

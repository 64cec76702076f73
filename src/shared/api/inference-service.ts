import { Type, type Static } from '@sinclair/typebox';
import {
  Conditions,
  DNS_LABEL_PATTERN,
  Duration,
  ResourceRequirements,
  Resource,
  StorageUri,
  StringEnum,
  type KubeSchemaOptions,
} from './common.js';
import { TrainingRunSpec } from './training-run.js';

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

export const PredictionLogging = Type.Object(
  {
    uri: StorageUri(
      'logging.uri',
      'Prefix of the prediction log (gs://bucket/prefix, or file:/// for local use): every prediction and every feedback is kept there as JSON Lines, sampled images under images/. Every pod of every version writes to it and shares its prediction-id key, so feedback works on any pod and after rollouts. A TrainingRun source of type PredictionLog (or kennel dataset build) turns its corrections into training data.',
    ),
    imageSampleRate: Type.Optional(
      Type.Number({
        description: 'Share of predictions whose image is stored (0..1, default 0). Only stored images can become training examples when they are corrected.',
        minimum: 0,
        maximum: 1,
      }),
    ),
    flushIntervalSeconds: Type.Optional(
      Type.Integer({ description: 'A batch of prediction records is written at most this long after its first record (default 5); feedback within 1 s.', minimum: 1, maximum: 3600 }),
    ),
  },
  { description: 'Keep every prediction and feedback in durable storage (the learning loop).' },
);
export type PredictionLogging = Static<typeof PredictionLogging>;

export const RetrainingPolicy = Type.Object(
  {
    minAccuracy: Type.Number({
      description: 'Start a TrainingRun when the live accuracy of the serving version (from feedback, over window) is below this (0..1).',
      minimum: 0,
      maximum: 1,
    }),
    window: Type.Optional(Duration('Time window live accuracy is measured over, e.g. 6h (default 1h).')),
    minFeedback: Type.Optional(
      Type.Integer({ description: 'Feedback the window must hold for a verdict (default 50): a few unlucky corrections never retrain.', minimum: 1 }),
    ),
    minInterval: Type.Optional(Duration('Never start a retraining run sooner than this after the previous one (default 24h).')),
    template: TrainingRunSpec,
  },
  {
    description:
      'Optional (off unless set): retrain when live accuracy drops. The new TrainingRun (named <name>-retrain-<n>, owned by this InferenceService) gets template as its spec; give it the base set and this service\'s prediction log as dataset.sources so it learns from the corrections. Its ModelVersion then goes through its gate and rollout as any other.',
  },
);
export type RetrainingPolicy = Static<typeof RetrainingPolicy>;

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
    loadShedding: Type.Optional(
      Type.Object(
        {
          maxInFlight: Type.Optional(
            Type.Integer({
              description:
                'Prediction requests one pod handles at once (default 64); beyond it a request gets a JSON 503 Overloaded with Retry-After before its body is read, so a flood costs a pod neither memory nor latency for the requests it took. About capacity (req/s) × the latency you accept (s).',
              minimum: 1,
              maximum: 100000,
            }),
          ),
          maxQueue: Type.Optional(
            Type.Integer({ description: 'Images one pod lets wait for a model worker before it sheds with 503 (default 1024).', minimum: 1, maximum: 100000 }),
          ),
        },
        { description: 'How each serving pod refuses work it cannot take in time (kennel serve --max-in-flight, --max-queue); see docs/reliability.md.' },
      ),
    ),
    port: Type.Optional(
      Type.Integer({ description: 'Port of the Service (default 80); the pods listen on 8080.', minimum: 1, maximum: 65535 }),
    ),
    logging: Type.Optional(PredictionLogging),
    retraining: Type.Optional(RetrainingPolicy),
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
      {
        rule: '!has(self.retraining) || !has(self.model) || self.retraining.template.model == self.model',
        message: 'retraining.template.model must be the model this InferenceService follows, or the retrained version would never be served here',
      },
      {
        rule: '!has(self.retraining) || !has(self.retraining.template.outputUri)',
        message: 'retraining.template.outputUri must be left out: every retraining run writes its own artifact under the operator\'s artifact root',
      },
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
  RetrainingStarted: 'RetrainingStarted',
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

export const LiveQuality = Type.Object(
  {
    modelVersion: Type.String({ description: 'The version measured (the serving one).' }),
    windowSeconds: Type.Integer({ description: 'Length of the window measured (shorter while the window is still filling).', minimum: 0 }),
    predictions: Type.Integer({ description: 'Images it classified in the window, all pods together.', minimum: 0 }),
    meanConfidence: Type.Optional(Type.Number({ description: 'Mean top-class confidence of those predictions.' })),
    confidenceHistogram: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, description: 'Predictions in this bin.' }), {
        description: 'Top-class confidence of those predictions over 10 equal bins on [0,1], comparable with the ModelVersion\'s baseline histogram.',
        minItems: 10,
        maxItems: 10,
      }),
    ),
    baselineMeanConfidence: Type.Optional(Type.Number({ description: 'Mean confidence on the test split (the ModelVersion\'s baseline).' })),
    confidenceDrift: Type.Optional(
      Type.Number({
        description: 'Total variation distance between the live and the baseline confidence histograms (0 = same distribution, 1 = disjoint).',
        minimum: 0,
        maximum: 1,
      }),
    ),
    feedback: Type.Integer({ description: 'Feedback on this version\'s predictions received in the window (any pod, any version serving).', minimum: 0 }),
    accuracy: Type.Optional(Type.Number({ description: 'Share of that feedback that confirmed the prediction: live accuracy.' })),
    baselineAccuracy: Type.Optional(Type.Number({ description: 'Accuracy on the test split (the ModelVersion\'s baseline).' })),
    measuredAt: Type.String({ description: 'When the pods were last measured (RFC 3339).', format: 'date-time' }),
  },
  { description: 'Live quality of the serving version against its offline baseline, from the serving pods\' own metrics.' },
);
export type LiveQuality = Static<typeof LiveQuality>;

export const RetrainingStatus = Type.Object(
  {
    runs: Type.Integer({ description: 'TrainingRuns the policy has started.', minimum: 0 }),
    lastTrainingRun: Type.Optional(Type.String({ description: 'The latest of them.' })),
    lastStartedAt: Type.Optional(Type.String({ description: 'When it was started (RFC 3339); the next comes at least minInterval later.', format: 'date-time' })),
    lastReason: Type.Optional(Type.String({ description: 'Why it was started, for a person.' })),
  },
  { description: 'What the retraining policy did.' },
);
export type RetrainingStatus = Static<typeof RetrainingStatus>;

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
    live: Type.Optional(LiveQuality),
    retraining: Type.Optional(RetrainingStatus),
    conditions: Type.Optional(Conditions()),
  },
  { description: 'What is serving and how the rollout goes; written only by the operator.' },
);
export type InferenceServiceStatus = Static<typeof InferenceServiceStatus>;

export const InferenceService = Resource(INFERENCE_SERVICE_KIND, InferenceServiceSpec, InferenceServiceStatus);
export type InferenceService = Static<typeof InferenceService>;

import { API_VERSION } from './common.js';
import type { InferenceService } from './inference-service.js';
import type { ModelVersion } from './model-version.js';
import type { TrainingRun } from './training-run.js';

/**
 * Known-good objects of each kind and known-bad variations with the message admission must
 * give. Shared by the unit tests (TypeBox parse) and the integration test against a real
 * kube-apiserver, so both judge the same cases. Functions return fresh objects.
 */

export function exampleTrainingRun(name = 'cats-dogs-1'): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name, namespace: 'default' },
    spec: {
      model: 'cats-dogs',
      dataset: { uri: 'gs://kennel-data/datasets/cats-dogs', classes: ['cat', 'dog'] },
      split: { train: 0.7, validation: 0.15, test: 0.15, seed: 42 },
      architecture: 'compact-cnn',
      hyperparameters: {
        epochs: 10,
        batchSize: 32,
        learningRate: 0.002,
        imageSize: 96,
        augmentation: { horizontalFlip: true, randomCrop: true, brightness: 0.1 },
        earlyStoppingPatience: 4,
      },
      resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { memory: 3 * 1024 ** 3 } },
      evaluation: { minAccuracy: 0.75, minF1: 0.7, minClassRecall: 0.6, mustBeatChampion: { margin: 0.01 } },
      backoffLimit: 1,
      activeDeadlineSeconds: 3600,
    },
  };
}

const SHA = 'a'.repeat(64);

export function exampleModelVersion(name = 'cats-dogs-v1', version = 1): ModelVersion {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name, namespace: 'default' },
    spec: {
      model: 'cats-dogs',
      version,
      artifact: { uri: `gs://kennel-artifacts/default/cats-dogs/runs/cats-dogs-1-abc`, format: 'tfjs-layers', sha256: SHA },
      classes: ['cat', 'dog'],
      inputShape: [96, 96, 3],
      metrics: {
        accuracy: 0.84,
        precision: 0.84,
        recall: 0.84,
        f1: 0.84,
        rocAuc: 0.91,
        testImages: 450,
        perClass: {
          cat: { precision: 0.85, recall: 0.83, f1: 0.84, support: 225 },
          dog: { precision: 0.83, recall: 0.85, f1: 0.84, support: 225 },
        },
        confusionMatrix: [
          [187, 38],
          [34, 191],
        ],
        confidenceHistogram: [0, 0, 0, 0, 0, 40, 60, 80, 120, 150],
        meanConfidence: 0.82,
      },
      lineage: {
        trainingRun: 'cats-dogs-1',
        trainingRunUid: '7f1c2d9e-0000-4000-8000-000000000001',
        dataset: { uri: 'gs://kennel-data/datasets/cats-dogs', digest: `sha256:${SHA}` },
        workerImage: 'ghcr.io/kennel-dev/kennel-worker:0.1.0',
        codeVersion: '0.1.0',
        backend: 'wasm',
      },
      gate: { minAccuracy: 0.75 },
    },
  };
}

export function exampleInferenceService(name = 'cats-dogs'): InferenceService {
  return {
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name, namespace: 'default' },
    spec: {
      model: 'cats-dogs',
      replicas: 2,
      rollout: {
        strategy: 'Canary',
        steps: [{ weight: 25, pauseSeconds: 60 }, { weight: 50, pauseSeconds: 60 }, { weight: 100 }],
        analysis: { maxErrorRate: 0.01, maxP95LatencyMs: 500, maxConfidenceDrift: 0.15, minRequests: 20, window: '2m' },
        progressDeadlineSeconds: 600,
      },
      resources: { requests: { cpu: '500m', memory: '512Mi' } },
      monitoring: { enabled: true, interval: '30s' },
      port: 80,
    },
  };
}

export interface InvalidCase {
  /** What is wrong, as a test title. */
  title: string;
  kind: 'TrainingRun' | 'ModelVersion' | 'InferenceService';
  /** A fresh invalid object. */
  make: () => TrainingRun | ModelVersion | InferenceService;
  /** A fragment the API server's (and the parser's) error must contain. */
  message: string;
}

function tr(mutate: (r: TrainingRun) => void): () => TrainingRun {
  return () => {
    const r = exampleTrainingRun('bad-run');
    mutate(r);
    return r;
  };
}

function isvc(mutate: (s: InferenceService) => void): () => InferenceService {
  return () => {
    const s = exampleInferenceService('bad-isvc');
    mutate(s);
    return s;
  };
}

/** Objects admission must reject, each with the message a person would read. */
export const INVALID_CASES: readonly InvalidCase[] = [
  {
    title: 'unknown architecture',
    kind: 'TrainingRun',
    make: tr((r) => ((r.spec as { architecture: string }).architecture = 'resnet-9000')),
    message: 'compact-cnn',
  },
  {
    title: 'split fractions that do not sum to 1',
    kind: 'TrainingRun',
    make: tr((r) => (r.spec.split = { train: 0.8, validation: 0.15, test: 0.15 })),
    message: 'split fractions must sum to 1',
  },
  {
    title: 'negative epochs',
    kind: 'TrainingRun',
    make: tr((r) => (r.spec.hyperparameters = { epochs: -3 })),
    message: 'epochs',
  },
  {
    title: 'a dataset URI that is neither gs:// nor file://',
    kind: 'TrainingRun',
    make: tr((r) => (r.spec.dataset = { uri: 's3://bucket/cats-dogs' })),
    message: 'dataset.uri must start with gs:// or file://',
  },
  {
    title: 'a pinned version and a followed model at once',
    kind: 'InferenceService',
    make: isvc((s) => (s.spec.modelVersion = 'cats-dogs-v1')),
    message: 'set exactly one of model',
  },
  {
    title: 'neither a model nor a pinned version',
    kind: 'InferenceService',
    make: isvc((s) => delete s.spec.model),
    message: 'set exactly one of model',
  },
  {
    title: 'canary weights that do not increase',
    kind: 'InferenceService',
    make: isvc((s) => {
      if (s.spec.rollout) s.spec.rollout.steps = [{ weight: 50 }, { weight: 20 }];
    }),
    message: 'canary step weights must increase strictly',
  },
  {
    title: 'replicas and autoscaling at once',
    kind: 'InferenceService',
    make: isvc((s) => (s.spec.autoscaling = { minReplicas: 1, maxReplicas: 3 })),
    message: 'set replicas or autoscaling, not both',
  },
  {
    title: 'a Canary rollout without steps',
    kind: 'InferenceService',
    make: isvc((s) => (s.spec.rollout = { strategy: 'Canary' })),
    message: 'rollout.steps is required when strategy is Canary',
  },
];

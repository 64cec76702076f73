import type { OwnerReference } from '../kube/client.js';

/**
 * Labels and annotations Kennel puts on its children. Selectors use only the stable ones
 * (`kennel.dev/inference-service`, `kennel.dev/model-version`), never anything that changes
 * during a rollout, so no Deployment's pod template changes when traffic moves.
 */
export const Labels = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  model: 'kennel.dev/model',
  version: 'kennel.dev/version',
  modelVersion: 'kennel.dev/model-version',
  trainingRun: 'kennel.dev/training-run',
  trainingRunUid: 'kennel.dev/training-run-uid',
  inferenceService: 'kennel.dev/inference-service',
  batchPrediction: 'kennel.dev/batch-prediction',
  trainingSweep: 'kennel.dev/training-sweep',
  sweepTrial: 'kennel.dev/sweep-trial',
  track: 'kennel.dev/track',
  specHash: 'kennel.dev/spec-hash',
} as const;

export const Annotations = {
  artifactUri: 'kennel.dev/artifact-uri',
  artifactSha256: 'kennel.dev/artifact-sha256',
  outputUri: 'kennel.dev/output-uri',
  modelVersion: 'kennel.dev/model-version',
  /** On a ModelVersion: "false" keeps InferenceServices that follow its model from serving it (a sweep's trials but its best). */
  servingEligible: 'kennel.dev/serving-eligible',
  /** Why, for a person. */
  servingEligibleReason: 'kennel.dev/serving-eligible-reason',
  /**
   * On a TrainingRun: stop it. Its controller deletes the unfinished Job and ends the run Failed
   * with reason Stopped and this value as the message (`kubectl annotate ktr NAME kennel.dev/stop="why"`).
   */
  stop: 'kennel.dev/stop',
  /** On a TrainingRun a TrainingSweep stopped: the median stopping figures, as JSON (training-sweep/median-stopping.ts). */
  sweepStopDetails: 'kennel.dev/sweep-stop',
  /** On a canary Deployment: its analysis checkpoints (inference-service/canary-checkpoints.ts). */
  canaryAnalysis: 'kennel.dev/canary-analysis',
} as const;

export const MANAGED_BY = 'kennel-operator';

/** Labels every child carries. */
export function commonLabels(component: 'training' | 'serving' | 'batch-prediction' | 'training-sweep', instance: string): Record<string, string> {
  return {
    [Labels.name]: 'kennel',
    [Labels.instance]: instance,
    [Labels.component]: component,
    [Labels.managedBy]: MANAGED_BY,
    [Labels.partOf]: 'kennel',
  };
}

/** The controller owner reference to a Kennel resource; requires metadata.uid. */
export function ownerReference(owner: { apiVersion: string; kind: string; metadata: { name: string; uid?: string } }): OwnerReference {
  if (!owner.metadata.uid) throw new Error(`${owner.kind} ${owner.metadata.name} has no uid: read it from the API server first`);
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

import type { V1Container, V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import type { BatchPrediction } from '../../shared/api/batch-prediction.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import { Annotations, commonLabels, Labels, ownerReference } from '../shared/labels.js';
import { jobName, specHash } from '../shared/names.js';
import { containerSecurityContext, podSecurityContext, TMP_MOUNT, tmpVolume } from '../shared/pod-security.js';
import { toResourceRequirements } from '../shared/resources.js';
import type { JobWire } from '../shared/wire.js';

/**
 * BatchPrediction → the Indexed Job that runs it: `parallelism` pods at once, one per shard, each
 * told its shard by the Job controller (JOB_COMPLETION_INDEX). Pure. As for a TrainingRun, the
 * Job's name is the batch's name plus a hash of its spec: a restarted operator finds its Job, a
 * changed spec makes a new one.
 */

export interface BatchJobOptions {
  /** Operator default (KENNEL_WORKER_IMAGE); spec.image overrides. */
  workerImage: string;
  /** KENNEL_ARTIFACT_ROOT: results go under <root>/<ns>/batch/<name>/<job> unless spec.outputUri says otherwise. */
  artifactRoot: string;
  serviceAccountName?: string;
  env?: readonly V1EnvVar[];
  ttlSecondsAfterFinished?: number;
}

export const PREDICT_CONTAINER = 'predict';
export const DEFAULT_PARALLELISM = 1;
export const DEFAULT_BACKOFF_LIMIT_PER_SHARD = 2;
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 6 * 3600;
export const DEFAULT_TTL_SECONDS_AFTER_FINISHED = 7 * 24 * 3600;
/** `kennel predict-batch` exits 1 when a retry cannot help (src/worker/predict-batch/outcome.ts). */
export const TERMINAL_EXIT_CODE = 1;
const DEFAULT_RESOURCES: V1ResourceRequirements = { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } };

export function batchJobName(bp: BatchPrediction): string {
  return jobName(bp.metadata.name, bp.spec);
}

export function batchShards(bp: BatchPrediction): number {
  return bp.spec.parallelism ?? DEFAULT_PARALLELISM;
}

/** Where the results go: spec.outputUri, or a prefix of its own per Job under the artifact root. */
export function batchOutputUri(bp: BatchPrediction, artifactRoot: string): string {
  if (bp.spec.outputUri) return bp.spec.outputUri.replace(/\/+$/, '');
  return `${artifactRoot.replace(/\/+$/, '')}/${bp.metadata.namespace ?? 'default'}/batch/${bp.metadata.name}/${batchJobName(bp)}`;
}

/** `kennel predict-batch` arguments (src/worker/predict-batch/cli-spec.ts); the shard comes from JOB_COMPLETION_INDEX. */
export function predictBatchArgs(bp: BatchPrediction, mv: ModelVersion, outputUri: string): string[] {
  const args = [
    'predict-batch',
    '--model', mv.spec.artifact.uri,
    '--model-sha256', mv.spec.artifact.sha256,
    '--model-version', mv.metadata.name,
    '--input', bp.spec.input.uri,
    '--output', outputUri,
    '--shards', String(batchShards(bp)),
  ];
  if (bp.spec.batchSize !== undefined) args.push('--batch-size', String(bp.spec.batchSize));
  return args;
}

export function desiredBatchJob(bp: BatchPrediction, mv: ModelVersion, options: BatchJobOptions): JobWire {
  const name = batchJobName(bp);
  const outputUri = batchOutputUri(bp, options.artifactRoot);
  const shards = batchShards(bp);
  const labels = {
    ...commonLabels('batch-prediction', bp.metadata.name),
    [Labels.batchPrediction]: bp.metadata.name,
    [Labels.specHash]: specHash(bp.spec),
  };
  const container: V1Container = {
    name: PREDICT_CONTAINER,
    image: bp.spec.image ?? options.workerImage,
    imagePullPolicy: 'IfNotPresent',
    args: predictBatchArgs(bp, mv, outputUri),
    env: [{ name: 'KENNEL_LOG_FORMAT', value: 'json' }, { name: 'HOME', value: '/tmp' }, ...(options.env ?? [])],
    resources: toResourceRequirements(bp.spec.resources, DEFAULT_RESOURCES),
    securityContext: containerSecurityContext(),
    volumeMounts: [TMP_MOUNT],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  const serviceAccountName = bp.spec.serviceAccountName ?? options.serviceAccountName;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: bp.metadata.namespace,
      labels,
      annotations: { [Annotations.outputUri]: outputUri, [Annotations.modelVersion]: mv.metadata.name },
      ownerReferences: [ownerReference(bp)],
    },
    spec: {
      completionMode: 'Indexed',
      completions: shards,
      parallelism: shards,
      backoffLimitPerIndex: bp.spec.backoffLimitPerShard ?? DEFAULT_BACKOFF_LIMIT_PER_SHARD,
      // One shard that cannot finish makes the batch's summary impossible: fail at once.
      maxFailedIndexes: 0,
      activeDeadlineSeconds: bp.spec.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS_AFTER_FINISHED,
      // A worker that exits 1 wrote why (input not found, model unusable, access denied): its
      // shard fails at once. Crashes, OOM kills and exit 2 (storage unavailable) are retried,
      // and the retry resumes after the shard's committed parts.
      podFailurePolicy: {
        rules: [
          { action: 'FailIndex', onExitCodes: { containerName: PREDICT_CONTAINER, operator: 'In', values: [TERMINAL_EXIT_CODE] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(serviceAccountName ? { serviceAccountName } : {}),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [container],
          volumes: [tmpVolume('1Gi')],
        },
      },
    },
  };
}

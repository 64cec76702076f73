import type { V1Container, V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import { datasetSources, type TrainingRun } from '../../shared/api/training-run.js';
import { Annotations, commonLabels, Labels, ownerReference } from '../shared/labels.js';
import { jobName, specHash } from '../shared/names.js';
import { toResourceRequirements } from '../shared/resources.js';
import type { JobWire } from '../shared/wire.js';
import { containerSecurityContext, podSecurityContext, TMP_MOUNT, tmpVolume } from '../shared/pod-security.js';

/**
 * TrainingRun → the batch/v1 Job that trains it. Pure. The Job's name is the run's name plus a
 * hash of its spec, so a restarted operator finds the Job it made (never a second one) and a
 * changed spec makes a new Job instead of trying to mutate an immutable one.
 */

export interface TrainingJobOptions {
  /** Operator default (KENNEL_WORKER_IMAGE); spec.image overrides. */
  workerImage: string;
  /** KENNEL_ARTIFACT_ROOT, e.g. gs://bucket/kennel: runs write under <root>/<ns>/<model>/runs/<job>. */
  artifactRoot: string;
  /** Operator default (KENNEL_SERVICE_ACCOUNT); spec.serviceAccountName overrides. */
  serviceAccountName?: string;
  /** Extra environment for the worker (see forwardedEnv). */
  env?: readonly V1EnvVar[];
  /** Seconds a finished Job is kept (default 7 days): long enough to read its logs. */
  ttlSecondsAfterFinished?: number;
}

export const TRAIN_CONTAINER = 'train';
export const DEFAULT_BACKOFF_LIMIT = 1;
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 6 * 3600;
export const DEFAULT_TTL_SECONDS_AFTER_FINISHED = 7 * 24 * 3600;
/** Exit code of a worker that failed for a reason retrying cannot fix (it wrote a WorkerFailure). */
export const WORKER_FAILURE_EXIT_CODE = 1;
const DEFAULT_RESOURCES: V1ResourceRequirements = { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '3Gi' } };

/** The Job name of a run (run name + hash of its spec). */
export function trainingJobName(run: TrainingRun): string {
  return jobName(run.metadata.name, run.spec);
}

/** Where the run's artifact goes: spec.outputUri, or under the operator's artifact root. */
export function trainingOutputUri(run: TrainingRun, artifactRoot: string): string {
  if (run.spec.outputUri) return run.spec.outputUri;
  const root = artifactRoot.replace(/\/+$/, '');
  return `${root}/${run.metadata.namespace ?? 'default'}/${run.spec.model}/runs/${trainingJobName(run)}`;
}

/**
 * `kennel train` arguments for a spec (src/worker/cli-spec.ts): every dataset source as a
 * `--data` (class folders) or `--prediction-log` flag, in order; only what the spec sets, so the
 * worker's defaults (per architecture) do the rest; each augmentation setting is passed on.
 */
export function trainArgs(run: TrainingRun, outputUri: string): string[] {
  const { spec } = run;
  const args = ['train'];
  for (const src of datasetSources(spec.dataset)) args.push(src.type === 'PredictionLog' ? '--prediction-log' : '--data', src.uri);
  args.push('--out', outputUri);
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };
  if (spec.dataset.classes) add('--classes', spec.dataset.classes.join(','));
  add('--architecture', spec.architecture);
  const hp = spec.hyperparameters;
  add('--epochs', hp?.epochs);
  add('--batch-size', hp?.batchSize);
  add('--learning-rate', hp?.learningRate);
  add('--image-size', hp?.imageSize);
  add('--patience', hp?.earlyStoppingPatience);
  const aug = hp?.augmentation;
  if (aug?.horizontalFlip !== undefined) args.push(aug.horizontalFlip ? '--flip' : '--no-flip');
  if (aug?.randomCrop !== undefined) args.push(aug.randomCrop ? '--random-crop' : '--no-random-crop');
  add('--brightness', aug?.brightness);
  if (spec.split) {
    add('--split', `${spec.split.train},${spec.split.validation},${spec.split.test}`);
    add('--split-seed', spec.split.seed);
  }
  return args;
}

export function desiredJob(run: TrainingRun, options: TrainingJobOptions): JobWire {
  const name = trainingJobName(run);
  const outputUri = trainingOutputUri(run, options.artifactRoot);
  const labels = {
    ...commonLabels('training', run.metadata.name),
    [Labels.model]: run.spec.model,
    [Labels.trainingRun]: run.metadata.name,
    [Labels.specHash]: specHash(run.spec),
  };
  const container: V1Container = {
    name: TRAIN_CONTAINER,
    image: run.spec.image ?? options.workerImage,
    imagePullPolicy: 'IfNotPresent',
    args: trainArgs(run, outputUri),
    env: [{ name: 'KENNEL_LOG_FORMAT', value: 'json' }, { name: 'HOME', value: '/tmp' }, ...(options.env ?? [])],
    resources: toResourceRequirements(run.spec.resources, DEFAULT_RESOURCES),
    securityContext: containerSecurityContext(),
    volumeMounts: [TMP_MOUNT],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  const serviceAccountName = run.spec.serviceAccountName ?? options.serviceAccountName;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: run.metadata.namespace,
      labels,
      annotations: { [Annotations.outputUri]: outputUri },
      ownerReferences: [ownerReference(run)],
    },
    spec: {
      backoffLimit: run.spec.backoffLimit ?? DEFAULT_BACKOFF_LIMIT,
      activeDeadlineSeconds: run.spec.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS_AFTER_FINISHED,
      // A worker that exits 1 has written why (DatasetNotFound, InvalidDataset ...): retrying
      // cannot help, so the Job fails at once; crashes, OOM kills and evictions still retry.
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: TRAIN_CONTAINER, operator: 'In', values: [WORKER_FAILURE_EXIT_CODE] } },
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
          volumes: [tmpVolume('8Gi')],
        },
      },
    },
  };
}

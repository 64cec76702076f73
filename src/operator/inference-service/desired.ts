import type { V1EnvVar, V1Probe, V1ResourceRequirements } from '@kubernetes/client-node';
import type { CanaryState, InferenceService } from '../../shared/api/inference-service.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import { Annotations, commonLabels, Labels, ownerReference } from '../shared/labels.js';
import { servingDeploymentName } from '../shared/names.js';
import { containerSecurityContext, podSecurityContext, TMP_MOUNT, tmpVolume } from '../shared/pod-security.js';
import { toResourceRequirements } from '../shared/resources.js';
import type { DeploymentWire, HorizontalPodAutoscalerWire, PodDisruptionBudgetWire, PodMonitoringWire, ServiceWire } from '../shared/wire.js';
import { replicaPlan } from './replica-plan.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS } from './rollout.js';

/**
 * InferenceService → the objects that serve it. Pure. One Deployment per served version
 * (stable, and the canary while a rollout runs) behind one Service that selects them all, so
 * traffic splits by ready pods; a PodMonitoring for Managed Prometheus; an HPA when autoscaling
 * is asked for; a PodDisruptionBudget.
 */

export const SERVER_CONTAINER = 'server';
export const SERVER_PORT = 8080;
export const DEFAULT_SERVICE_PORT = 80;
export const DEFAULT_SCRAPE_INTERVAL = '30s';
export const DEFAULT_TARGET_CPU = 70;
/** Startup budget for loading and warming the model: 5 s × 60 = 300 s, `kennel serve`'s own load timeout. */
export const STARTUP_PROBE_PERIOD_SECONDS = 5;
export const STARTUP_PROBE_FAILURE_THRESHOLD = 60;
/**
 * Zero-downtime pod termination, as Kubernetes does it. Deleting a pod and taking it out of the
 * Service happen in parallel: the kubelet starts stopping the pod while the endpointslice
 * controller, then every kube-proxy (and any load balancer), still have to learn that the
 * endpoint is terminating. A `preStop` sleep keeps the server answering for that long before
 * it gets SIGTERM, so nothing is routed to a server that has stopped accepting.
 */
export const PRE_STOP_SLEEP_SECONDS = 5;
/** Passed to `kennel serve --shutdown-timeout-seconds`: after SIGTERM, time for in-flight requests. */
export const SERVER_SHUTDOWN_TIMEOUT_SECONDS = 20;
/** Passed to `kennel serve --log-flush-timeout-seconds`: after the drain, time to write the prediction log out. */
export const LOG_FLUSH_TIMEOUT_SECONDS = 10;
/**
 * The grace period covers the preStop sleep, the server's drain and the prediction log's final
 * write, with room to release the model and exit, so SIGKILL never cuts either short:
 * 5 + 20 + 10 + 5 = 40 s.
 */
export const TERMINATION_GRACE_PERIOD_SECONDS = PRE_STOP_SLEEP_SECONDS + SERVER_SHUTDOWN_TIMEOUT_SECONDS + LOG_FLUSH_TIMEOUT_SECONDS + 5;
const DEFAULT_RESOURCES: V1ResourceRequirements = { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } };

export interface ServingOptions {
  /** Operator default (KENNEL_WORKER_IMAGE); spec.image overrides. */
  image: string;
  /** Operator default (KENNEL_SERVICE_ACCOUNT); spec.serviceAccountName overrides. */
  serviceAccountName?: string;
  /** Extra environment for the server (see forwardedEnv). */
  env?: readonly V1EnvVar[];
  /** Whether the PodMonitoring CRD (monitoring.googleapis.com/v1) is installed. */
  podMonitoringAvailable: boolean;
}

/** What to run: the stable version and, during a rollout, the canary with its state. */
export interface ServingPlan {
  stable?: ModelVersion;
  canary?: { modelVersion: ModelVersion; state: CanaryState };
  /** The stable Deployment's replica count as observed; undefined while it does not exist. */
  stableReplicas?: number;
}

export interface ServingObjects {
  deployments: DeploymentWire[];
  service: ServiceWire;
  podMonitoring?: PodMonitoringWire;
  hpa?: HorizontalPodAutoscalerWire;
  pdb: PodDisruptionBudgetWire;
}

export function serviceUrl(isvc: InferenceService): string {
  const port = isvc.spec.port ?? DEFAULT_SERVICE_PORT;
  return `http://${isvc.metadata.name}.${isvc.metadata.namespace ?? 'default'}.svc.cluster.local${port === 80 ? '' : `:${port}`}`;
}

/** Labels selecting every serving pod of an InferenceService (Service, PDB, PodMonitoring). */
export function servingSelector(isvc: InferenceService): Record<string, string> {
  return { [Labels.inferenceService]: isvc.metadata.name };
}

export function monitoringEnabled(isvc: InferenceService): boolean {
  return isvc.spec.monitoring?.enabled ?? true;
}

const probe = (path: string, periodSeconds: number, failureThreshold: number, timeoutSeconds: number): V1Probe => ({
  httpGet: { path, port: 'http' },
  periodSeconds,
  failureThreshold,
  timeoutSeconds,
});

function deployment(
  isvc: InferenceService,
  mv: ModelVersion,
  track: 'stable' | 'canary',
  replicas: number | undefined,
  options: ServingOptions,
): DeploymentWire {
  const selector = { ...servingSelector(isvc), [Labels.modelVersion]: mv.metadata.name };
  const podLabels = {
    ...commonLabels('serving', isvc.metadata.name),
    ...selector,
    [Labels.model]: mv.spec.model,
    [Labels.version]: String(mv.spec.version),
  };
  const serviceAccountName = isvc.spec.serviceAccountName ?? options.serviceAccountName;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: servingDeploymentName(isvc.metadata.name, mv.metadata.name),
      namespace: isvc.metadata.namespace,
      // The track lives on the Deployment only: pod templates never change when traffic moves.
      labels: { ...podLabels, [Labels.track]: track },
      ownerReferences: [ownerReference(isvc)],
    },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: isvc.spec.rollout?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
      revisionHistoryLimit: 2,
      template: {
        metadata: {
          labels: podLabels,
          annotations: { [Annotations.artifactUri]: mv.spec.artifact.uri, [Annotations.artifactSha256]: mv.spec.artifact.sha256 },
        },
        spec: {
          ...(serviceAccountName ? { serviceAccountName } : {}),
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
          containers: [
            {
              name: SERVER_CONTAINER,
              image: isvc.spec.image ?? options.image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                'serve',
                '--model', mv.spec.artifact.uri,
                '--port', String(SERVER_PORT),
                '--model-name', mv.spec.model,
                '--model-version', String(mv.spec.version),
                '--shutdown-timeout-seconds', String(SERVER_SHUTDOWN_TIMEOUT_SECONDS),
                ...(isvc.spec.minConfidence !== undefined ? ['--min-confidence', String(isvc.spec.minConfidence)] : []),
                ...(isvc.spec.loadShedding?.maxInFlight !== undefined ? ['--max-in-flight', String(isvc.spec.loadShedding.maxInFlight)] : []),
                ...(isvc.spec.loadShedding?.maxQueue !== undefined ? ['--max-queue', String(isvc.spec.loadShedding.maxQueue)] : []),
                ...loggingArgs(isvc),
              ],
              ports: [{ name: 'http', containerPort: SERVER_PORT, protocol: 'TCP' }],
              env: [
                { name: 'PORT', value: String(SERVER_PORT) },
                { name: 'HOME', value: '/tmp' },
                ...(options.env ?? []),
              ],
              resources: toResourceRequirements(isvc.spec.resources, DEFAULT_RESOURCES),
              startupProbe: probe('/readyz', STARTUP_PROBE_PERIOD_SECONDS, STARTUP_PROBE_FAILURE_THRESHOLD, 2),
              readinessProbe: probe('/readyz', 5, 3, 2),
              livenessProbe: probe('/healthz', 10, 3, 5),
              // The native sleep action (no shell or `sleep` binary needed in the image).
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
              securityContext: containerSecurityContext(),
              volumeMounts: [TMP_MOUNT],
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [tmpVolume('1Gi')],
        },
      },
    },
  };
}

/** `kennel serve` flags for spec.logging: every version's pods write the same log (and share its id key). */
export function loggingArgs(isvc: InferenceService): string[] {
  const logging = isvc.spec.logging;
  if (!logging) return [];
  return [
    '--prediction-log', logging.uri,
    '--image-sample-rate', String(logging.imageSampleRate ?? 0),
    ...(logging.flushIntervalSeconds !== undefined ? ['--log-flush-seconds', String(logging.flushIntervalSeconds)] : []),
    '--log-flush-timeout-seconds', String(LOG_FLUSH_TIMEOUT_SECONDS),
  ];
}

export function desiredServingObjects(isvc: InferenceService, plan: ServingPlan, options: ServingOptions): ServingObjects {
  const owner = [ownerReference(isvc)];
  const meta = (labels: Record<string, string> = {}) => ({
    name: isvc.metadata.name,
    namespace: isvc.metadata.namespace,
    labels: { ...commonLabels('serving', isvc.metadata.name), ...servingSelector(isvc), ...labels },
    ownerReferences: owner,
  });
  const replicas = replicaPlan(isvc.spec, plan.canary?.state, plan.stableReplicas);
  const autoscaling = isvc.spec.autoscaling;
  const deployments: DeploymentWire[] = [];
  // With autoscaling the HPA owns the stable Deployment's replicas once it exists: a count applied
  // then would fight it. A new stable Deployment starts at minReplicas; a promoted canary keeps the
  // count it was given (the stable's, which the HPA had set), see the reconciler's field managers.
  const stableCount = autoscaling && plan.stableReplicas !== undefined ? undefined : replicas.stable;
  if (plan.stable) deployments.push(deployment(isvc, plan.stable, 'stable', stableCount, options));
  if (plan.canary) deployments.push(deployment(isvc, plan.canary.modelVersion, 'canary', replicas.canary, options));

  const out: ServingObjects = {
    deployments,
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(),
      spec: {
        type: 'ClusterIP',
        selector: servingSelector(isvc),
        ports: [{ name: 'http', port: isvc.spec.port ?? DEFAULT_SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
      },
    },
    pdb: {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(),
      spec: { maxUnavailable: 1, selector: { matchLabels: servingSelector(isvc) } },
    },
  };
  if (monitoringEnabled(isvc) && options.podMonitoringAvailable) {
    out.podMonitoring = {
      apiVersion: 'monitoring.googleapis.com/v1',
      kind: 'PodMonitoring',
      metadata: meta(),
      spec: {
        selector: { matchLabels: servingSelector(isvc) },
        endpoints: [{ port: 'http', path: '/metrics', interval: isvc.spec.monitoring?.interval ?? DEFAULT_SCRAPE_INTERVAL }],
      },
    };
  }
  if (autoscaling && plan.stable) {
    out.hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: servingDeploymentName(isvc.metadata.name, plan.stable.metadata.name) },
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilization ?? DEFAULT_TARGET_CPU } },
          },
        ],
      },
    };
  }
  return out;
}

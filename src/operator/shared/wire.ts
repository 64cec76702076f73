import type {
  V1Deployment,
  V1Job,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { KubeObject } from '../kube/client.js';

/**
 * The built-in objects the operator renders and reads, typed as the wire JSON the informer caches
 * and the API server is sent: client-node's model of each spec, {@link KubeObject}'s metadata,
 * and hand-written status shapes of just the fields status functions read (client-node's status
 * models hold `Date` objects where the wire has RFC 3339 strings). One type per kind serves the
 * renderer that builds it, the cache that holds it and the status function that reads it.
 */

/** A client-node model without the parts whose wire shape differs from it (or that KubeObject types). */
type SpecOf<T> = Omit<T, 'apiVersion' | 'kind' | 'metadata' | 'status'>;

export interface WireCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface JobWire extends KubeObject, SpecOf<V1Job> {
  status?: {
    active?: number;
    ready?: number;
    succeeded?: number;
    failed?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: WireCondition[];
  };
}

export interface ContainerStateWire {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

export interface ContainerStatusWire {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerStateWire;
  lastState?: ContainerStateWire;
}

export interface PodWire extends KubeObject, SpecOf<V1Pod> {
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    podIP?: string;
    conditions?: WireCondition[];
    containerStatuses?: ContainerStatusWire[];
    startTime?: string;
  };
}

export interface DeploymentWire extends KubeObject, SpecOf<V1Deployment> {
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: WireCondition[];
  };
}

export interface ServiceWire extends KubeObject, SpecOf<V1Service> {}

export interface PodDisruptionBudgetWire extends KubeObject, SpecOf<V1PodDisruptionBudget> {}

export interface HorizontalPodAutoscalerWire extends KubeObject, SpecOf<V2HorizontalPodAutoscaler> {}

/** monitoring.googleapis.com/v1 PodMonitoring (Managed Prometheus; no model in client-node). */
export interface PodMonitoringWire extends KubeObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    endpoints: Array<{ port: string; path: string; interval: string }>;
  };
}

export function conditionOf(conditions: readonly WireCondition[] | undefined, type: string): WireCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** RFC 3339 without milliseconds, as Kubernetes writes times. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

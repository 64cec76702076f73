/**
 * The few fields of built-in objects that status functions read, typed as the wire JSON the
 * informer caches (timestamps are RFC 3339 strings, never Date objects).
 */

export interface WireCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface WireMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface JobWire {
  metadata?: WireMeta;
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

export interface PodWire {
  metadata?: WireMeta;
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: WireCondition[];
    containerStatuses?: ContainerStatusWire[];
    startTime?: string;
  };
}

export interface DeploymentWire {
  metadata?: WireMeta;
  spec?: { replicas?: number };
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

export function conditionOf(conditions: readonly WireCondition[] | undefined, type: string): WireCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** RFC 3339 without milliseconds, as Kubernetes writes times. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

import { conditionOf, type ContainerStateWire, type PodWire } from './wire.js';

/**
 * What the pods of a Job say about why it is not running, or why it died, read the same way for
 * every kind that runs a worker in a Job (TrainingRun, BatchPrediction). Pure.
 */

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

function startedAt(pod: PodWire): string {
  return pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? '';
}

/** Pods, newest first. */
export function newestFirst(pods: readonly PodWire[]): PodWire[] {
  return [...pods].sort((a, b) => (startedAt(a) < startedAt(b) ? 1 : startedAt(a) > startedAt(b) ? -1 : 0));
}

/** The current and the last state of `container` in `pod` (none when it has no status yet). */
export function containerStates(pod: PodWire, container: string): ContainerStateWire[] {
  const s = pod.status?.containerStatuses?.find((c) => c.name === container);
  return s ? [s.state ?? {}, s.lastState ?? {}] : [];
}

/** True when `container` was killed for memory in any of the pods. */
export function oomKilled(pods: readonly PodWire[], container: string): boolean {
  // Exit code 137 alone is any SIGKILL (a node lost, a preemption, a person): only the kubelet's
  // reason says the memory limit did it.
  return pods.some((p) => containerStates(p, container).some((s) => s.terminated?.reason === 'OOMKilled'));
}

export interface StuckPod {
  reason: 'ImagePullFailed' | 'Unschedulable';
  /** What is wrong, e.g. "cannot pull the worker image (ErrImagePull): ...". */
  message: string;
}

/** Why the newest pod stuck before running cannot start, if one is: its image cannot be pulled, or it cannot be scheduled. */
export function stuckPod(pods: readonly PodWire[], container: string, what: string): StuckPod | undefined {
  for (const pod of newestFirst(pods)) {
    const waiting = containerStates(pod, container)[0]?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return { reason: 'ImagePullFailed', message: `cannot pull the worker image (${waiting.reason}): ${waiting.message ?? ''}`.trim() };
    }
    const scheduled = conditionOf(pod.status?.conditions, 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
      return { reason: 'Unschedulable', message: `${what} cannot be scheduled: ${scheduled.message ?? 'no node fits'}` };
    }
  }
  return undefined;
}

/** ": <reason>: <message>" of the newest pod's waiting `container` (e.g. CreateContainerError), or "". */
export function waitingDetail(pods: readonly PodWire[], container: string): string {
  for (const pod of newestFirst(pods)) {
    const waiting = containerStates(pod, container)[0]?.waiting;
    if (waiting?.reason) return `: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  }
  return '';
}

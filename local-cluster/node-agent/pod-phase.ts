import type { V1ContainerStatus } from '@kubernetes/client-node';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** Whether a container that exited with `exitCode` is started again under `policy`. */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/**
 * The pod phase from its container statuses, following the kubelet's getPhase for pods without
 * init containers: a container that has never run keeps the pod Pending; a running one makes it
 * Running; once all have stopped for good, Succeeded if every exit code was 0, else Failed.
 */
export function podPhase(policy: RestartPolicy, statuses: readonly V1ContainerStatus[]): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  let restartable = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
      if (shouldRestart(policy, s.state.terminated.exitCode)) restartable++;
    } else if (s.lastState?.terminated) {
      stopped++;
      if (shouldRestart(policy, s.lastState.terminated.exitCode)) restartable++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0 && restartable > 0) return 'Running';
  return stopped === succeeded ? 'Succeeded' : 'Failed';
}

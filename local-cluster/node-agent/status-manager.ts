import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { AgentLog } from './agent-log.js';
import { statusCode } from '../api-errors.js';
import type { PodRunner } from './pod-runner.js';

/**
 * What of a pod's status the node decides and the API server keeps as written: phase, and per
 * container its state, exit code or waiting reason, restarts and readiness. Two statuses with
 * the same digest need no write.
 */
export function statusDigest(status: V1PodStatus | undefined): string {
  const containers = (status?.containerStatuses ?? []).map((c) => {
    const st = c.state;
    const state = st?.running ? 'running' : st?.terminated ? `terminated:${st.terminated.exitCode}` : `waiting:${st?.waiting?.reason ?? ''}`;
    return `${c.name}=${state}/${c.restartCount}/${c.ready ? 'ready' : 'unready'}`;
  });
  return [status?.phase ?? '', status?.podIP ?? '', ...containers].join(' ');
}

/** The slice of a PodRunner whose status is written. */
export type StatusSource = Pick<PodRunner, 'key' | 'uid' | 'status'>;

/**
 * Writes the node's view of each pod's status to the API server, like the kubelet's status
 * manager: one write in flight per pod (a change during a write schedules another), transient
 * errors retried (a 409 at once, others after a pause, five attempts), and a status the API
 * server lost written again by the next reconcile pass (see resync). Stops retrying once stopped.
 */
export class StatusManager {
  /** Per pod key: the write in flight, and whether another change came meanwhile. */
  private readonly pushing = new Map<string, { again: boolean }>();
  /** Per pod uid: the digest of the status last written (or '(write failed)') and when. */
  private readonly written = new Map<string, { digest: string; at: number }>();
  private stopped = false;

  constructor(private readonly deps: { core: CoreV1Api; log: AgentLog }) {}

  /** The runner's status changed: write it (unless stopped). */
  changed(runner: StatusSource): void {
    if (!this.stopped) void this.push(runner);
  }

  /**
   * With no write in flight, a status the node has but did not write (its write failed), or one
   * the API server does not show although the list began after the write completed, is written
   * again. `pod` is the API server's copy, from a list that began at `listedAt`.
   */
  resync(runner: StatusSource, pod: V1Pod, listedAt: number): void {
    const uid = runner.uid ?? '';
    if (this.stopped || this.pushing.has(runner.key)) return;
    const want = statusDigest(runner.status());
    const last = this.written.get(uid);
    // Nothing written nor failed yet: the runner's first status change writes it.
    if (!last) return;
    const listed = statusDigest(pod.status);
    if (last.digest === want && (last.at >= listedAt || listed === want)) return;
    this.deps.log('status out of date, writing it again', { pod: runner.key, node: want, api: listed, lastWritten: last.digest });
    void this.push(runner);
  }

  /** Drops what was written for a pod uid (the pod is gone, or replaced by one of the same name). */
  forget(uid: string): void {
    this.written.delete(uid);
  }

  /** Drops what was written for every uid not in `uids` (the pods the node still runs). */
  retain(uids: ReadonlySet<string>): void {
    for (const uid of this.written.keys()) if (!uids.has(uid)) this.written.delete(uid);
  }

  /** No more writes are started, and a write in flight stops retrying. */
  stop(): void {
    this.stopped = true;
  }

  private async push(runner: StatusSource): Promise<void> {
    const { core, log } = this.deps;
    const key = runner.key;
    const inflight = this.pushing.get(key);
    if (inflight) {
      inflight.again = true;
      return;
    }
    const state = { again: false };
    this.pushing.set(key, state);
    try {
      do {
        state.again = false;
        const [namespace, name] = key.split('/') as [string, string];
        for (let attempt = 1; ; attempt++) {
          try {
            const current = await core.readNamespacedPod({ name, namespace });
            if (current.metadata?.uid !== runner.uid) return;
            const status = runner.status();
            await core.replaceNamespacedPodStatus({ name, namespace, body: { ...current, status: { ...current.status, ...status } } });
            const digest = statusDigest(status);
            this.written.set(runner.uid ?? '', { digest, at: Date.now() });
            if (digest !== statusDigest(current.status)) log('status written', { pod: key, status: digest, attempt });
            break;
          } catch (err) {
            const code = statusCode(err);
            if (code === 404 || this.stopped) return;
            // A write that failed is retried (the next reconcile pass also rewrites a status the
            // API server does not have, see resync); 409 at once, anything else after a pause.
            if (attempt >= 5) {
              log('status write failed', { pod: key, attempt, error: String(err) });
              this.written.set(runner.uid ?? '', { digest: '(write failed)', at: Date.now() });
              break;
            }
            if (code !== 409) await sleep(200 * attempt);
          }
        }
      } while (state.again);
    } finally {
      this.pushing.delete(key);
    }
  }
}

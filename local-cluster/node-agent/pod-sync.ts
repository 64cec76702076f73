import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { AgentLog } from './agent-log.js';
import { statusCode } from '../api-errors.js';
import type { PodCredentials } from './credentials.js';
import type { PodNetwork } from './pod-network.js';
import { PodRunner } from './pod-runner.js';
import type { StatusManager } from './status-manager.js';

export interface PodSyncOptions {
  core: CoreV1Api;
  nodeName: string;
  network: PodNetwork;
  credentials: PodCredentials;
  statuses: StatusManager;
  /** The built CLI the pods of Kennel's images run. */
  cliPath: string;
  /** Pods' working directories live below this. */
  podsDir: string;
  /** Containers' output files live below this. */
  logsDir: string;
  log: AgentLog;
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * The node's side of every pod, one reconcile pass at a time (see pass()): binds unscheduled pods
 * to this node, gives each pod bound here a PodRunner, hands its status to the status manager,
 * and on deletion stops it like the kubelet (preStop hook, SIGTERM, SIGKILL at the grace
 * deadline) before finalising the deletion. Once stopped it starts no pod, even from a pass that
 * was already waiting on the API server.
 */
export class PodSync {
  private readonly runners = new Map<string, PodRunner>();
  private readonly podSpecs = new Map<string, V1Pod>();
  private readonly deleting = new Set<string>();
  /** What was last decided for each pod (key and uid), so that each change is logged once. */
  private readonly decisions = new Map<string, string>();
  private stopped = false;

  constructor(private readonly opts: PodSyncOptions) {}

  /** The file a pod's container writes its output to (the first container when none is named). */
  logPath(namespace: string, pod: string, container?: string): string {
    const name = container ?? this.podSpecs.get(`${namespace}/${pod}`)?.spec?.containers[0]?.name ?? 'main';
    return join(this.opts.logsDir, `${safe(namespace)}_${safe(pod)}_${safe(name)}.log`);
  }

  /** Whether that container is running now (the kubelet endpoint follows its log while it is). */
  isRunning(namespace: string, pod: string, container: string): boolean {
    return this.runners.get(`${namespace}/${pod}`)?.status().containerStatuses?.some((s) => s.name === container && s.state?.running) ?? false;
  }

  /**
   * One reconcile pass: lists every pod and brings the node in line with each (one pod's failure
   * does not stop the others), stops the runners of pods that are gone, and forgets their statuses.
   */
  async pass(): Promise<void> {
    const { core, log, statuses } = this.opts;
    const listedAt = Date.now();
    const pods = (await core.listPodForAllNamespaces()).items;
    const seen = new Set<string>();
    const seenDecisions = new Set<string>();
    for (const pod of pods) {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      seen.add(key);
      const id = `${key} ${pod.metadata?.uid ?? ''}`;
      seenDecisions.add(id);
      let decision: string;
      try {
        decision = await this.syncPod(pod, key, listedAt);
      } catch (err) {
        // One pod's failure must not keep the pods after it in the list from being handled.
        decision = 'failed';
        log('pod sync failed', { pod: key, error: String(err) });
      }
      if (this.decisions.get(id) !== decision) {
        this.decisions.set(id, decision);
        log('pod seen', { pod: key, uid: pod.metadata?.uid, decision, phase: pod.status?.phase ?? null, node: pod.spec?.nodeName ?? null });
      }
    }
    for (const id of this.decisions.keys()) if (!seenDecisions.has(id)) this.decisions.delete(id);
    for (const [key, runner] of this.runners) {
      if (!seen.has(key) && !this.deleting.has(key)) {
        this.runners.delete(key);
        void runner.stop(0);
      }
    }
    statuses.retain(new Set([...this.runners.values()].map((r) => r.uid ?? '')));
  }

  /** Starts no more pods and stops every pod's processes (2 s grace). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.runners.values()].map((r) => r.stop(2)));
    this.runners.clear();
  }

  /**
   * Brings the node in line with one pod; returns what it decided, for the log. A pod bound here
   * gets a PodRunner; one that has one gets its status rewritten when the API server's copy
   * lags the node's (a status write lost to an error must not leave a pod Pending for good).
   */
  private async syncPod(pod: V1Pod, key: string, listedAt: number): Promise<string> {
    const { core, log, nodeName, statuses } = this.opts;
    const nodeOfPod = pod.spec?.nodeName;
    if (!nodeOfPod) {
      if (pod.metadata?.deletionTimestamp) return 'deleted before binding';
      const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
      if (scheduler !== 'default-scheduler') return `left to scheduler ${scheduler}`;
      await core
        .createNamespacedPodBinding({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          body: { metadata: { name: pod.metadata?.name, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
        })
        .then(() => log('pod bound', { pod: key }))
        .catch((err: unknown) => {
          if (statusCode(err) !== 409 && statusCode(err) !== 404) log('binding failed', { pod: key, error: String(err) });
        });
      return 'binding';
    }
    if (nodeOfPod !== nodeName) return `on node ${nodeOfPod}`;
    this.podSpecs.set(key, pod);
    let runner = this.runners.get(key);
    if (runner && runner.uid !== pod.metadata?.uid) {
      // A new pod with an old pod's name: the old one is gone.
      await runner.stop(0);
      this.runners.delete(key);
      statuses.forget(runner.uid ?? '');
      runner = undefined;
    }
    if (pod.metadata?.deletionTimestamp) {
      void this.finalizeDeletion(pod);
      return 'deleting';
    }
    if (runner) {
      runner.updatePod(pod);
      statuses.resync(runner, pod, listedAt);
      return 'has its runner';
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return `finished (${pod.status.phase}) before this agent ran it`;
    // stop() stops the runners it finds; one made by a pass still in flight would outlive it.
    if (this.stopped) return 'not started: the agent is stopping';
    this.startRunner(pod, key);
    return 'started';
  }

  private startRunner(pod: V1Pod, key: string): void {
    const { network, credentials, statuses, log } = this.opts;
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const podDir = join(this.opts.podsDir, `${safe(namespace)}_${safe(name)}_${pod.metadata?.uid ?? ''}`);
    mkdirSync(podDir, { recursive: true });
    const created: PodRunner = new PodRunner(pod, {
      network,
      envSources: credentials.envSources,
      podKubeconfig: (p) => credentials.podKubeconfig(p, podDir),
      cliPath: this.opts.cliPath,
      podDir,
      logPath: (container) => this.logPath(namespace, name, container),
      hostIp: network.hostIp,
      onStatusChange: () => statuses.changed(created),
      log,
    });
    this.runners.set(key, created);
    log('pod starting', { pod: key, uid: pod.metadata?.uid });
    created.start();
  }

  /** The kubelet's order on deletion: the runner's preStop, SIGTERM, SIGKILL; then grace 0 on the API server. */
  private async finalizeDeletion(pod: V1Pod): Promise<void> {
    const { core, log } = this.opts;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (this.deleting.has(key)) return;
    this.deleting.add(key);
    try {
      const runner = this.runners.get(key);
      if (runner) {
        const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
        await runner.stop(grace, { preStop: true });
        this.runners.delete(key);
      }
      await core
        .deleteNamespacedPod({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
        })
        .catch((err: unknown) => {
          if (statusCode(err) !== 404 && statusCode(err) !== 409) log('pod deletion failed', { pod: key, error: String(err) });
        });
      log('pod deleted', { pod: key });
    } finally {
      this.deleting.delete(key);
    }
  }
}

import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, Watch, type KubeConfig, type V1Node, type V1Pod, type V1PodStatus } from '@kubernetes/client-node';
import { pinnedVersion } from '../../scripts/testbed/layout.js';
import { renderKubeconfig } from '../kubeconfig.js';
import type { EnvSources } from './container-env.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';
import type { PodNetwork } from './pod-network.js';
import { PodRunner } from './pod-runner.js';

export interface NodeAgent {
  readonly nodeName: string;
  readonly network: PodNetwork;
  /** The file a pod's container writes its output to (the first container when none is named). */
  logPath(namespace: string, pod: string, container?: string): string;
  /** That file's content ('' when the container has not started yet). */
  readLog(namespace: string, pod: string, container?: string): string;
  stop(): Promise<void>;
}

export interface StartNodeAgentOptions {
  kubeConfig: KubeConfig;
  /** State directory: pods' working dirs and logs live below it. */
  dir: string;
  network: PodNetwork;
  /** The API server as pods reach it (on the pod network), e.g. https://10.244.N.1:PORT. */
  podApiServer: string;
  caCert: string;
  /** Serving certificate and key for the kubelet endpoint (valid for network.hostIp). */
  kubeletCert: string;
  kubeletKey: string;
  nodeName?: string;
  /** The built CLI; `<repo>/dist/cli.js` by default. */
  cliPath?: string;
}

const defaultCliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;
}

/** A reconcile pass this long is logged (one normally takes milliseconds). */
const slowPassMs = 20_000;

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

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

/**
 * A stand-in for a kubelet and a scheduler on the test bed's single node: it registers a Ready
 * Node with this machine's CPU and memory, binds every unscheduled Pod to it, runs the Pods of
 * Kennel's images as local processes (see PodRunner), writes their status, serves their logs on
 * the kubelet endpoint (so `kubectl logs` works), and on deletion stops their processes like the
 * kubelet (preStop hook, SIGTERM, SIGKILL at the grace deadline) and then finalises the deletion.
 */
export async function startNodeAgent(opts: StartNodeAgentOptions): Promise<NodeAgent> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const nodeName = opts.nodeName ?? 'kennel-node';
  const cliPath = opts.cliPath ?? defaultCliPath;
  const podsDir = join(opts.dir, 'pods');
  const logsDir = join(opts.dir, 'logs');
  mkdirSync(podsDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const agentLog = join(opts.dir, 'node-agent.log');
  const log = (message: string, data: Record<string, unknown> = {}): void => {
    try {
      appendFileSync(agentLog, `${JSON.stringify({ time: new Date().toISOString(), message, ...data })}\n`);
    } catch {
      // The state directory is gone (the test bed was stopped and removed): nobody reads this line.
    }
  };

  const runners = new Map<string, PodRunner>();
  const podSpecs = new Map<string, V1Pod>();
  const logPath = (ns: string, pod: string, container?: string): string => {
    const name = container ?? podSpecs.get(`${ns}/${pod}`)?.spec?.containers[0]?.name ?? 'main';
    return join(logsDir, `${safe(ns)}_${safe(pod)}_${safe(name)}.log`);
  };

  const kubelet: KubeletServer = await startKubeletServer({
    host: opts.network.hostIp,
    cert: opts.kubeletCert,
    key: opts.kubeletKey,
    logPath,
    isRunning: (ns, pod, container) => runners.get(`${ns}/${pod}`)?.status().containerStatuses?.some((s) => s.name === container && s.state?.running) ?? false,
  });

  await registerNode(core, nodeName, opts.network, kubelet.port);

  const caData = opts.caCert;
  const envSources: EnvSources = {
    async configMap(ns, name) {
      try {
        return (await core.readNamespacedConfigMap({ name, namespace: ns })).data ?? {};
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
    async secret(ns, name) {
      try {
        const data = (await core.readNamespacedSecret({ name, namespace: ns })).data ?? {};
        return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
  };

  const podKubeconfig = async (pod: V1Pod, podDir: string): Promise<string | undefined> => {
    if (pod.spec?.automountServiceAccountToken === false) return undefined;
    const path = join(podDir, 'kubeconfig');
    if (existsSync(path)) return path;
    const namespace = pod.metadata?.namespace ?? 'default';
    const sa = pod.spec?.serviceAccountName || 'default';
    let token: string | undefined;
    try {
      const res = await core.createNamespacedServiceAccountToken({
        name: sa,
        namespace,
        body: {
          spec: {
            audiences: [],
            expirationSeconds: 86_400,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
          },
        },
      });
      token = res.status?.token;
    } catch (err) {
      if (statusCode(err) === 404) throw new Error(`serviceaccount "${sa}" not found`);
      throw err;
    }
    if (!token) throw new Error(`no token issued for serviceaccount ${namespace}/${sa}`);
    writeFileSync(
      path,
      renderKubeconfig({ server: opts.podApiServer, caCert: caData, credentials: { token }, namespace, user: `system:serviceaccount:${namespace}:${sa}` }),
      { mode: 0o600 },
    );
    return path;
  };

  // Status writes: one in flight per pod; a change during a write schedules another.
  const pushing = new Map<string, { again: boolean }>();
  // Per pod uid: the digest of the status last written and when the write completed.
  const written = new Map<string, { digest: string; at: number }>();
  const pushStatus = async (runner: PodRunner): Promise<void> => {
    const key = runner.key;
    const inflight = pushing.get(key);
    if (inflight) {
      inflight.again = true;
      return;
    }
    const state = { again: false };
    pushing.set(key, state);
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
            written.set(runner.uid ?? '', { digest, at: Date.now() });
            if (digest !== statusDigest(current.status)) log('status written', { pod: key, status: digest, attempt });
            break;
          } catch (err) {
            const code = statusCode(err);
            if (code === 404 || stopped) return;
            // A write that failed is retried (the next reconcile pass also rewrites a status the
            // API server does not have, see resyncStatus); 409 at once, anything else after a pause.
            if (attempt >= 5) {
              log('status write failed', { pod: key, attempt, error: String(err) });
              written.set(runner.uid ?? '', { digest: '(write failed)', at: Date.now() });
              break;
            }
            if (code !== 409) await sleep(200 * attempt);
          }
        }
      } while (state.again);
    } finally {
      pushing.delete(key);
    }
  };

  let stopped = false;
  const deleting = new Set<string>();

  const finalizeDeletion = async (pod: V1Pod): Promise<void> => {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (deleting.has(key)) return;
    deleting.add(key);
    try {
      const runner = runners.get(key);
      if (runner) {
        const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
        await runner.stop(grace, { preStop: true });
        runners.delete(key);
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
      deleting.delete(key);
    }
  };

  /**
   * Brings the node in line with one pod; returns what it decided, for the log. A pod bound here
   * gets a PodRunner; one that has one gets its status rewritten when the API server's copy
   * lags the node's (a status write lost to an error must not leave a pod Pending for good).
   */
  const syncPod = async (pod: V1Pod, key: string, listedAt: number): Promise<string> => {
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
    podSpecs.set(key, pod);
    let runner = runners.get(key);
    if (runner && runner.uid !== pod.metadata?.uid) {
      // A new pod with an old pod's name: the old one is gone.
      await runner.stop(0);
      runners.delete(key);
      written.delete(runner.uid ?? '');
      runner = undefined;
    }
    if (pod.metadata?.deletionTimestamp) {
      void finalizeDeletion(pod);
      return 'deleting';
    }
    if (runner) {
      runner.updatePod(pod);
      resyncStatus(runner, pod, listedAt);
      return 'has its runner';
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return `finished (${pod.status.phase}) before this agent ran it`;
    // stop() stops the runners it finds; one made by a pass still in flight would outlive it.
    if (stopped) return 'not started: the agent is stopping';
    const podDir = join(podsDir, `${safe(pod.metadata?.namespace ?? '')}_${safe(pod.metadata?.name ?? '')}_${pod.metadata?.uid ?? ''}`);
    mkdirSync(podDir, { recursive: true });
    const created: PodRunner = new PodRunner(pod, {
      network: opts.network,
      envSources,
      podKubeconfig: (p) => podKubeconfig(p, podDir),
      cliPath,
      podDir,
      logPath: (container) => logPath(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', container),
      hostIp: opts.network.hostIp,
      onStatusChange: () => {
        if (!stopped) void pushStatus(created);
      },
      log,
    });
    runners.set(key, created);
    log('pod starting', { pod: key, uid: pod.metadata?.uid });
    created.start();
    return 'started';
  };

  /**
   * Like the kubelet's status manager: with no write in flight, a status the node has but did not
   * write (its write failed), or one the API server does not show although the list began after
   * the write completed, is written again.
   */
  const resyncStatus = (runner: PodRunner, pod: V1Pod, listedAt: number): void => {
    const uid = runner.uid ?? '';
    if (stopped || pushing.has(runner.key)) return;
    const want = statusDigest(runner.status());
    const last = written.get(uid);
    // Nothing written nor failed yet: the runner's first status change writes it.
    if (!last) return;
    const listed = statusDigest(pod.status);
    if (last.digest === want && (last.at >= listedAt || listed === want)) return;
    log('status out of date, writing it again', { pod: runner.key, node: want, api: listed, lastWritten: last.digest });
    void pushStatus(runner);
  };

  // What the agent last decided for each pod (key and uid), so that each change is logged once.
  const decisions = new Map<string, string>();

  const reconcile = async (): Promise<void> => {
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
        decision = await syncPod(pod, key, listedAt);
      } catch (err) {
        // One pod's failure must not keep the pods after it in the list from being handled.
        decision = 'failed';
        log('pod sync failed', { pod: key, error: String(err) });
      }
      if (decisions.get(id) !== decision) {
        decisions.set(id, decision);
        log('pod seen', { pod: key, uid: pod.metadata?.uid, decision, phase: pod.status?.phase ?? null, node: pod.spec?.nodeName ?? null });
      }
    }
    for (const id of decisions.keys()) if (!seenDecisions.has(id)) decisions.delete(id);
    for (const [key, runner] of runners) {
      if (!seen.has(key) && !deleting.has(key)) {
        runners.delete(key);
        void runner.stop(0);
      }
    }
    const uids = new Set([...runners.values()].map((r) => r.uid ?? ''));
    for (const uid of written.keys()) if (!uids.has(uid)) written.delete(uid);
  };

  // Level-based: every watch event and a periodic tick trigger a full reconcile; overlapping
  // triggers collapse into one more pass.
  let running = false;
  let dirty = false;
  let passStartedAt = 0;
  let slowPassLogged = false;
  const kick = (): void => {
    if (stopped) return;
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    void (async () => {
      do {
        dirty = false;
        passStartedAt = Date.now();
        slowPassLogged = false;
        try {
          await reconcile();
        } catch (err) {
          if (!stopped) log('reconcile failed', { error: String(err) });
        }
      } while (dirty && !stopped);
      running = false;
    })();
  };

  const watch = new Watch(opts.kubeConfig);
  let watchReq: { abort(): void } | undefined;
  const startWatch = async (): Promise<void> => {
    if (stopped) return;
    try {
      watchReq = await watch.watch(
        '/api/v1/pods',
        { allowWatchBookmarks: false },
        () => kick(),
        () => {
          if (!stopped) setTimeout(() => void startWatch(), 500);
        },
      );
    } catch {
      if (!stopped) setTimeout(() => void startWatch(), 1_000);
    }
  };
  await startWatch();
  const ticker = setInterval(() => {
    // A pass that never ends stops every pod from being started: say so in the log.
    if (running && !slowPassLogged && Date.now() - passStartedAt > slowPassMs) {
      slowPassLogged = true;
      log('reconcile pass still running', { ms: Date.now() - passStartedAt });
    }
    kick();
  }, 2_000);
  kick();

  return {
    nodeName,
    network: opts.network,
    logPath,
    readLog(ns, pod, container) {
      try {
        return readFileSync(logPath(ns, pod, container), 'utf8');
      } catch {
        return '';
      }
    },
    async stop() {
      stopped = true;
      clearInterval(ticker);
      watchReq?.abort();
      await Promise.allSettled([...runners.values()].map((r) => r.stop(2)));
      runners.clear();
      await kubelet.close();
    },
  };
}

async function registerNode(core: CoreV1Api, nodeName: string, network: PodNetwork, kubeletPort: number): Promise<void> {
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
    'ephemeral-storage': '100Gi',
  };
  const now = new Date();
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'node.kubernetes.io/instance-type': 'kennel-testbed',
      },
    },
    spec: network.mode === 'netns' ? { podCIDR: network.podCidr, podCIDRs: [network.podCidr] } : {},
    status: {
      capacity,
      allocatable: capacity,
      addresses: [
        { type: 'InternalIP', address: network.hostIp },
        { type: 'Hostname', address: nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kennel test bed node agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      nodeInfo: {
        machineID: 'kennel-testbed',
        systemUUID: 'kennel-testbed',
        bootID: String(process.pid),
        kernelVersion: release(),
        osImage: `kennel test bed on ${hostname()}`,
        containerRuntimeVersion: `kennel-node-agent://${process.version}`,
        kubeletVersion: pinnedVersion('kubernetes', 'k8s.io/kubernetes'),
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  };
  const created = await core.createNode({ body: node });
  // Status is not guaranteed to survive create: write it through the status subresource too.
  await core.replaceNodeStatus({ name: nodeName, body: { ...created, status: node.status } });
}

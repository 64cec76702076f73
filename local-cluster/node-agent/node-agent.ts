import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createAgentLog } from './agent-log.js';
import { podCredentials } from './credentials.js';
import { startKubeletServer } from './kubelet-server.js';
import { registerNode } from './node-registration.js';
import type { PodNetwork } from './pod-network.js';
import { PodSync } from './pod-sync.js';
import { startReconcileLoop } from './reconcile-loop.js';
import { StatusManager } from './status-manager.js';

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

/**
 * A stand-in for a kubelet and a scheduler on the test bed's single node: it registers a Ready
 * Node with this machine's CPU and memory (node-registration.ts), binds every unscheduled Pod to
 * it and runs the Pods of Kennel's images as local processes (pod-sync.ts, pod-runner.ts), writes
 * their status (status-manager.ts), hands them ConfigMap, Secret and service-account credentials
 * (credentials.ts), serves their logs on the kubelet endpoint (so `kubectl logs` works), and on
 * deletion stops their processes like the kubelet. This function wires those parts to the
 * reconcile loop (reconcile-loop.ts: a full pass on every pod watch event and every 2 s).
 */
export async function startNodeAgent(opts: StartNodeAgentOptions): Promise<NodeAgent> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const nodeName = opts.nodeName ?? 'kennel-node';
  const podsDir = join(opts.dir, 'pods');
  const logsDir = join(opts.dir, 'logs');
  mkdirSync(podsDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const log = createAgentLog(join(opts.dir, 'node-agent.log'));

  const statuses = new StatusManager({ core, log });
  const pods = new PodSync({
    core,
    nodeName,
    network: opts.network,
    credentials: podCredentials({ core, podApiServer: opts.podApiServer, caCert: opts.caCert }),
    statuses,
    cliPath: opts.cliPath ?? defaultCliPath,
    podsDir,
    logsDir,
    log,
  });
  const logPath = (ns: string, pod: string, container?: string): string => pods.logPath(ns, pod, container);

  const kubelet = await startKubeletServer({
    host: opts.network.hostIp,
    cert: opts.kubeletCert,
    key: opts.kubeletKey,
    logPath,
    isRunning: (ns, pod, container) => pods.isRunning(ns, pod, container),
  });

  await registerNode(core, nodeName, opts.network, kubelet.port);

  const loop = await startReconcileLoop({ kubeConfig: opts.kubeConfig, pass: () => pods.pass(), log });

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
      // Every part stops starting work before anything is awaited: a pass still waiting on the
      // API server then starts no pod, and no status write is retried.
      loop.stop();
      statuses.stop();
      await pods.stop();
      await kubelet.close();
    },
  };
}

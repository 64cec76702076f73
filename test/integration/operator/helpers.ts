import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadOperatorConfig } from '../../../src/operator/config.js';
import { createKubeClient, type KubeClient, type KubeObject } from '../../../src/operator/kube/client.js';
import { Resources, type ResourceRef } from '../../../src/operator/kube/resources.js';
import { startOperator, type RunningOperator } from '../../../src/operator/main.js';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { startTestbed, type Testbed } from '../../../local-cluster/index.js';

export { waitFor };

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The test bed's node runs this instead of the built CLI: a contract-exact fake `kennel train`, the real `kennel serve`. */
export const fakeCliPath = fileURLToPath(new URL('./fixtures/fake-kennel-cli.mjs', import.meta.url));
export const WORKER_IMAGE = 'ghcr.io/kennel-dev/kennel-worker:0.1.0';

export async function startBed(): Promise<{ bed: Testbed; kube: KubeClient }> {
  const bed = await startTestbed({ cliPath: fakeCliPath });
  return { bed, kube: createKubeClient(bed.kubeConfig) };
}

export async function createNamespace(kube: KubeClient, name: string): Promise<void> {
  await kube.create(Resources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await waitFor(() => kube.get({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, name, 'default'), {
    timeoutMs: 30_000,
    what: `the default service account of ${name}`,
  });
}

export interface InProcessOptions {
  namespaces: string[];
  leaderElect?: boolean;
  leaseNamespace?: string;
  gateMinAccuracy?: number;
  logFile?: string;
  onLostLeadership?: () => void;
  /** KENNEL_LIVE_INTERVAL_SECONDS (default: the operator's 60). */
  liveIntervalSeconds?: number;
  /** KENNEL_PROGRESS_POLL_SECONDS: how often training and batch-prediction pods are read for progress (default 10). */
  progressPollSeconds?: number;
}

/** The operator in this process (its log goes to a file in the test bed's directory). */
export async function startInProcess(bed: Testbed, o: InProcessOptions): Promise<RunningOperator> {
  const config = loadOperatorConfig({
    KENNEL_NAMESPACES: o.namespaces.join(','),
    KENNEL_LEADER_ELECT: String(o.leaderElect ?? false),
    KENNEL_LEASE_NAMESPACE: o.leaseNamespace ?? o.namespaces[0] ?? 'default',
    KENNEL_WORKER_IMAGE: WORKER_IMAGE,
    KENNEL_ARTIFACT_ROOT: 'file:///tmp/kennel-artifacts',
    KENNEL_GATE_MIN_ACCURACY: String(o.gateMinAccuracy ?? 0.8),
    KENNEL_HEALTH_PORT: '0',
    ...(o.liveIntervalSeconds !== undefined ? { KENNEL_LIVE_INTERVAL_SECONDS: String(o.liveIntervalSeconds) } : {}),
    ...(o.progressPollSeconds !== undefined ? { KENNEL_PROGRESS_POLL_SECONDS: String(o.progressPollSeconds) } : {}),
  });
  const logger = pino({ level: 'debug' }, createWriteStream(o.logFile ?? join(bed.dir, `operator-${config.identity}.log`), { flags: 'a' }));
  return startOperator({
    config,
    kubeConfig: bed.kubeConfig,
    logger,
    healthHost: '127.0.0.1',
    podEnv: { KENNEL_GCS_ENDPOINT: bed.gcsEndpoint },
    ...(o.onLostLeadership ? { onLostLeadership: o.onLostLeadership } : {}),
  });
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly logPath: string;
  readonly exited: Promise<number | null>;
}

/** `kennel operator` as its own process (through tsx), for restarts, kills and leader election. */
export function spawnOperator(bed: Testbed, env: Record<string, string>, logName: string): OperatorProcess {
  const cli = join(repoRoot, 'src/cli.ts');
  if (!existsSync(cli)) throw new Error(`${cli} missing`);
  const logPath = join(bed.dir, `${logName}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'operator'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      KUBECONFIG: bed.kubeconfigPath,
      KENNEL_WORKER_IMAGE: WORKER_IMAGE,
      KENNEL_ARTIFACT_ROOT: 'file:///tmp/kennel-artifacts',
      KENNEL_HEALTH_PORT: '0',
      KENNEL_LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, logPath, exited };
}

export async function stopProcess(p: OperatorProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await p.exited;
}

export function trainingRun(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'kennel.dev/v1alpha1', kind: 'TrainingRun', metadata: { name, namespace }, spec };
}

export async function list<T extends KubeObject>(kube: KubeClient, r: ResourceRef, namespace: string, labelSelector?: string): Promise<T[]> {
  return (await kube.list<T>(r, namespace, labelSelector ? { labelSelector } : undefined)).items;
}

export interface Phased {
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason: string; message: string }>; [k: string]: unknown };
}

/** Waits until the object's status satisfies `check`; returns the object. */
export async function waitForStatus<T extends KubeObject & Phased>(
  kube: KubeClient,
  r: ResourceRef,
  namespace: string,
  name: string,
  check: (o: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  let last: T | undefined;
  try {
    return await waitFor(
      async () => {
        last = await kube.get<T>(r, namespace, name);
        return last && check(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 250, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
}

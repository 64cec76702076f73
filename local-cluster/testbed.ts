import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { onExitCleanup } from './exit-hooks.js';
import { reapCommandOnDeath } from './orphan-reaper.js';
import { startEtcd } from './etcd.js';
import { startFakeGcs, type FakeGcs } from './fake-gcs.js';
import { defaultCrdDirs, installCrds, readCrds } from './install-crds.js';
import { startKubeApiserver } from './kube-apiserver.js';
import { startKubeControllerManager } from './kube-controller-manager.js';
import { renderKubeconfig } from './kubeconfig.js';
import type { ManagedProcess } from './managed-process.js';
import { waitFor } from './net-utils.js';
import { startNodeAgent, type NodeAgent } from './node-agent/node-agent.js';
import { createPodNetwork, type PodNetwork, type PodNetworkMode } from './node-agent/pod-network.js';
import { createPki } from './pki.js';
import { serviceUrl } from './service-url.js';
import { testbedBin } from './testbed-bin.js';

const run = promisify(execFile);

export interface Testbed {
  /** The test bed's state directory (logs of every component, pods' working dirs). */
  readonly dir: string;
  /** An admin kubeconfig (system:masters) for the test bed's API server. */
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** `https://HOST:PORT` of kube-apiserver. */
  readonly server: string;
  /** fake-gcs-server, `http://HOST:PORT`, reachable from the host and from pods. */
  readonly gcsEndpoint: string;
  readonly nodeAgent: NodeAgent;
  readonly network: PodNetwork;
  /** etcd's client URL, `http://127.0.0.1:PORT`. */
  readonly etcdEndpoint: string;
  /** Stops kube-apiserver (SIGTERM, SIGKILL after 5 s); etcd and everything else keep running. For fault tests. */
  stopKubeApiserver(): Promise<void>;
  /** Starts kube-apiserver again at the same address (after stopKubeApiserver); resolves once it is ready. */
  startKubeApiserver(): Promise<void>;
  /** `http://IP:PORT` of a ready endpoint of a Service port (by number or name); waits for one. */
  serviceUrl(namespace: string, name: string, port: number | string, timeoutMs?: number): Promise<string>;
  /** Runs the test bed's kubectl against it (a run still going at stop() is killed). */
  kubectl(args: readonly string[], opts?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** Milliseconds each start-up step took. */
  readonly timings: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

export interface StartTestbedOptions {
  /** State directory; a fresh temp dir (removed by stop) by default. */
  dir?: string;
  /** CRD directories to install; `crds/` and `local-cluster/crds/` by default. */
  crdDirs?: readonly string[];
  /** `netns` (default; falls back to `loopback` when unavailable) or `loopback`. */
  network?: PodNetworkMode;
  /** Print each step's duration to stderr (default: when KENNEL_TESTBED_VERBOSE is set). */
  verbose?: boolean;
  /** The CLI the node agent runs for Kennel images; `<repo>/dist/cli.js` by default. */
  cliPath?: string;
  /** Keep the state directory after stop (default: when KENNEL_TESTBED_KEEP is set). */
  keepDir?: boolean;
}

/**
 * Starts the whole test bed: a pod network, a PKI, etcd, kube-apiserver, kube-controller-manager,
 * fake-gcs-server, Kennel's CRDs plus the PodMonitoring CRD, and the node agent; resolves once all
 * of them are ready. Every process and network namespace is torn down by stop(), and by an exit
 * hook if the test process ends or is interrupted first.
 */
export async function startTestbed(opts: StartTestbedOptions = {}): Promise<Testbed> {
  const started = Date.now();
  const timings: Record<string, number> = {};
  const verbose = opts.verbose ?? Boolean(process.env.KENNEL_TESTBED_VERBOSE);
  let mark = started;
  const step = (name: string): void => {
    const t = Date.now();
    timings[name] = t - mark;
    mark = t;
    if (verbose) process.stderr.write(`testbed: ${name} ${timings[name]}ms\n`);
  };
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kennel-testbed-'));
  mkdirSync(dir, { recursive: true });
  const keepDir = opts.keepDir ?? Boolean(process.env.KENNEL_TESTBED_KEEP);
  const removeDir = (): void => {
    if (ownDir && !keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const unregisterRemoveDir = onExitCleanup(removeDir);
  const unreapDir = ownDir && !keepDir ? reapCommandOnDeath(`dir:${dir}`, `rm -rf '${dir}'`) : () => undefined;
  const unregisterDir = (): void => {
    unregisterRemoveDir();
    unreapDir();
  };

  // Fail before starting anything when a binary is missing.
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'fake-gcs-server'] as const) testbedBin(b);

  const processes: ManagedProcess[] = [];
  let gcs: FakeGcs | undefined;
  let nodeAgent: NodeAgent | undefined;
  let network: PodNetwork | undefined;
  // kubectl runs in flight: stop() kills them, and so does the exit hook if the process ends first.
  const kubectlRuns = new Set<ChildProcess>();
  const killKubectlRuns = (): void => {
    for (const child of kubectlRuns) child.kill('SIGKILL');
  };
  const unregisterKubectlRuns = onExitCleanup(killKubectlRuns);
  const teardown = async (): Promise<void> => {
    killKubectlRuns();
    unregisterKubectlRuns();
    await nodeAgent?.stop().catch(() => undefined);
    for (const p of [...processes].reverse()) await p.stop(5_000);
    await gcs?.stop().catch(() => undefined);
    await network?.destroy().catch(() => undefined);
  };

  try {
    const pkiDir = join(dir, 'pki');
    mkdirSync(pkiDir, { recursive: true });
    // The PKI is made while the network is chosen, so the serving certificate names every address
    // the pod bridge can get (10.244.N.1); which one this test bed gets is known only later.
    const [net, etcd, pki] = await Promise.all([
      createPodNetwork({ prefer: opts.network }).then((n) => (network = n)),
      startEtcd({ dir }).then((e) => {
        processes.push(e.process);
        return e;
      }),
      createPki({
        dir: pkiDir,
        ips: ['127.0.0.1', '10.96.0.1', ...Array.from({ length: 254 }, (_, i) => `10.244.${i + 1}.1`)],
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      }),
    ]);
    if (net.fallbackReason && opts.network !== 'loopback') {
      process.stderr.write(`testbed: pods share the host's loopback address (${net.fallbackReason})\n`);
    }
    const hostIp = net.hostIp;
    step('network+etcd+pki');

    const apiserverOptions = { dir, pki, etcdEndpoint: etcd.endpoint, host: hostIp };
    const [apiserver, fakeGcs] = await Promise.all([
      startKubeApiserver(apiserverOptions).then((a) => {
        processes.push(a.process);
        return a;
      }),
      startFakeGcs({ dir: join(dir, 'fake-gcs'), host: hostIp }).then((g) => (gcs = g)),
    ]);
    step('kube-apiserver+fake-gcs');

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      renderKubeconfig({ server: apiserver.server, caCert: pki.caCert, credentials: { clientCert: pki.adminCert, clientKey: pki.adminKey } }),
      { mode: 0o600 },
    );
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    processes.push(await startKubeControllerManager({ dir, pki, kubeconfigPath }));
    const [, agent] = await Promise.all([
      installCrds(kubeConfig, readCrds(opts.crdDirs ?? defaultCrdDirs)),
      startNodeAgent({
        kubeConfig,
        dir,
        network: net,
        podApiServer: apiserver.server,
        caCert: pki.caCert,
        kubeletCert: pki.servingCert,
        kubeletKey: pki.servingKey,
        ...(opts.cliPath ? { cliPath: opts.cliPath } : {}),
      }),
    ]);
    nodeAgent = agent;
    step('crds+node-agent');

    // The controller manager is ready once it has created the default ServiceAccount.
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const kcm = processes[processes.length - 1]!;
    await waitFor(() => core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(() => true), {
      timeoutMs: 30_000,
      what: `kube-controller-manager to create the default ServiceAccount (log: ${kcm.logPath})`,
      abort: () => (kcm.hasExited() ? new Error(`kube-controller-manager exited (log: ${kcm.logPath})`) : undefined),
    });
    step('kube-controller-manager');
    timings.total = Date.now() - started;
    if (verbose) process.stderr.write(`testbed: ready in ${timings.total}ms (dir ${dir})\n`);

    let stopped = false;
    let apiserverProcess = apiserver.process;
    const apiserverPort = Number(new URL(apiserver.server).port);
    return {
      dir,
      kubeconfigPath,
      kubeConfig,
      server: apiserver.server,
      gcsEndpoint: fakeGcs.endpoint,
      nodeAgent: agent,
      network: net,
      etcdEndpoint: etcd.endpoint,
      async stopKubeApiserver() {
        await apiserverProcess.stop(5_000);
      },
      async startKubeApiserver() {
        if (stopped) throw new Error('the test bed is stopped');
        if (!apiserverProcess.hasExited()) throw new Error('kube-apiserver is running');
        const restarted = await startKubeApiserver({ ...apiserverOptions, port: apiserverPort });
        processes.splice(processes.indexOf(apiserverProcess), 1, restarted.process);
        apiserverProcess = restarted.process;
      },
      timings,
      serviceUrl: (namespace, name, port, timeoutMs) => serviceUrl(kubeConfig, namespace, name, port, timeoutMs),
      kubectl: async (args, o = {}) => {
        if (stopped) throw new Error(`kubectl ${args.join(' ')}: the test bed is stopped`);
        const child = run(testbedBin('kubectl'), ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 64 * 1024 * 1024 });
        kubectlRuns.add(child.child);
        void child.finally(() => kubectlRuns.delete(child.child)).catch(() => undefined);
        if (o.input !== undefined) {
          child.child.stdin?.end(o.input);
        }
        const { stdout, stderr } = await child;
        return { stdout, stderr };
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await teardown();
        removeDir();
        unregisterDir();
      },
    };
  } catch (err) {
    await teardown();
    if (ownDir && !keepDir) {
      process.stderr.write(`testbed: start failed; logs kept in ${dir}\n`);
      unregisterDir();
    }
    throw err;
  }
}

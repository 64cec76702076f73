import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { startProcess, type ManagedProcess } from '../managed-process.js';
import { cliArgsOf, kennelImageOf } from './container-command.js';
import { resolveEnv, type EnvSources } from './container-env.js';
import { podPhase, shouldRestart, type RestartPolicy } from './pod-phase.js';
import type { PodNetwork, PodSandbox } from './pod-network.js';
import { runPreStopHook } from './pre-stop.js';
import { runProbe } from './probe.js';

export interface PodRunnerDeps {
  network: PodNetwork;
  envSources: EnvSources;
  /** A kubeconfig for the pod's service account (TokenRequest), or undefined when not mounted. */
  podKubeconfig(pod: V1Pod): Promise<string | undefined>;
  /** The built CLI, `<repo>/dist/cli.js`. */
  cliPath: string;
  podDir: string;
  logPath(container: string): string;
  hostIp: string;
  /** Called whenever the pod's status changed; the agent writes it to the API server. */
  onStatusChange(): void;
  log(message: string, data?: Record<string, unknown>): void;
}

type Terminated = NonNullable<NonNullable<V1ContainerStatus['state']>['terminated']>;
type Waiting = NonNullable<NonNullable<V1ContainerStatus['state']>['waiting']>;

interface ContainerRun {
  readonly spec: V1Container;
  proc?: ManagedProcess;
  startedAt?: Date;
  waiting?: Waiting;
  terminated?: Terminated;
  lastTerminated?: Terminated;
  restartCount: number;
  started: boolean;
  ready: boolean;
  /** Set when a liveness or startup probe asked for the kill, to word the termination. */
  killedBy?: string;
}

const maxMessageBytes = 4096;
const fallbackLogBytes = 2048;
const backoffStartMs = 1_000;
const backoffMaxMs = 20_000;
/** The kubelet's minimumGracePeriodInSeconds: SIGTERM always gets this long after a preStop hook. */
const minGraceAfterHookMs = 2_000;

function now(): Date {
  return new Date();
}

function tail(path: string, bytes: number): string {
  try {
    const buf = readFileSync(path);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * Runs one Pod bound to the node as local processes, one per container, and keeps a kubelet-like
 * view of its status: container states and restarts, probes, readiness, phase and conditions.
 */
export class PodRunner {
  private readonly containers: ContainerRun[];
  private readonly policy: RestartPolicy;
  private sandbox?: PodSandbox;
  private stopping = false;
  private startTime?: Date;
  private readonly conditionTimes = new Map<string, { status: string; time: Date }>();
  private readonly loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(
    private pod: V1Pod,
    private readonly deps: PodRunnerDeps,
  ) {
    this.containers = (pod.spec?.containers ?? []).map((spec) => ({ spec, restartCount: 0, started: false, ready: false }));
    this.policy = (pod.spec?.restartPolicy as RestartPolicy | undefined) ?? 'Always';
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  get uid(): string | undefined {
    return this.pod.metadata?.uid;
  }

  /** Latest pod object (for the downward API); the agent refreshes it on each list. */
  updatePod(pod: V1Pod): void {
    this.pod = pod;
  }

  start(): void {
    this.startTime = now();
    const unknownImages = this.containers.filter((c) => !kennelImageOf(c.spec.image));
    for (const c of unknownImages) {
      c.waiting = {
        reason: 'ErrImagePull',
        message: `Failed to pull image "${c.spec.image}": the Kennel test bed node runs only kennel-operator and kennel-worker images`,
      };
    }
    if (unknownImages.length > 0) {
      this.deps.onStatusChange();
      this.loops.push(
        (async () => {
          await sleep(1_000, undefined, { signal: this.abort.signal }).catch(() => undefined);
          for (const c of unknownImages) c.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.spec.image}"` };
          this.deps.onStatusChange();
        })(),
      );
    }
    this.loops.push(
      (async () => {
        this.sandbox = await this.createSandbox();
        if (!this.sandbox) return;
        mkdirSync(join(this.deps.podDir, 'home'), { recursive: true });
        mkdirSync(join(this.deps.podDir, 'tmp'), { recursive: true });
        for (const v of this.pod.spec?.volumes ?? []) {
          if (v.emptyDir) mkdirSync(join(this.deps.podDir, 'volumes', v.name), { recursive: true });
        }
        for (const c of this.containers) {
          if (kennelImageOf(c.spec.image)) c.waiting = { reason: 'ContainerCreating' };
        }
        this.deps.onStatusChange();
        await Promise.all(this.containers.filter((c) => kennelImageOf(c.spec.image)).map((c) => this.runContainer(c)));
        if (!this.stopping) await this.releaseSandbox();
      })(),
    );
  }

  /**
   * The pod's network sandbox. A failure is retried with back-off until it works or the pod
   * stops, as the kubelet retries FailedCreatePodSandBox: giving up after one failure left the pod
   * Pending for good (so one TrainingRun of three started at once stayed Pending in CI, its
   * sandbox refused with "RTNETLINK answers: File exists" by a host veth an earlier test bed had
   * left). Meanwhile the containers wait with CreateContainerError and the failure as message.
   */
  private async createSandbox(): Promise<PodSandbox | undefined> {
    let backoff = backoffStartMs;
    for (let attempt = 1; !this.stopping; attempt++) {
      const started = Date.now();
      try {
        const sandbox = await this.deps.network.createSandbox(this.key);
        this.deps.log('pod sandbox created', { pod: this.key, ip: sandbox.ip, attempt, ms: Date.now() - started });
        return sandbox;
      } catch (err) {
        this.deps.log('pod sandbox creation failed', { pod: this.key, attempt, error: String(err), retryInMs: backoff });
        for (const c of this.containers) {
          if (kennelImageOf(c.spec.image)) c.waiting = { reason: 'CreateContainerError', message: `failed to create pod sandbox: ${String(err)}` };
        }
        this.deps.onStatusChange();
      }
      await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
      backoff = Math.min(backoff * 2, backoffMaxMs);
    }
    return undefined;
  }

  /**
   * Stops every container and frees the pod's address. With `preStop` (a pod deletion), in the
   * kubelet's order: each running container's preStop hook first, bounded by the grace period,
   * while the container keeps running and its probes keep reporting; then SIGTERM with what is
   * left of the grace period (at least 2 s, the kubelet's minimum); then SIGKILL at the deadline.
   * No container is restarted once stopping has begun.
   */
  async stop(graceSeconds: number, opts: { preStop?: boolean } = {}): Promise<void> {
    const graceMs = Math.max(graceSeconds, 0) * 1000;
    const deadline = Date.now() + graceMs;
    this.stopping = true;
    this.abort.abort();
    await Promise.all(
      this.containers.map(async (c) => {
        const hook = c.spec.lifecycle?.preStop;
        if (opts.preStop && hook && graceMs > 0 && c.proc && !c.proc.hasExited()) {
          const started = Date.now();
          this.deps.log('preStop hook started', { pod: this.key, container: c.spec.name });
          const result = await runPreStopHook(hook, c.spec, this.sandbox?.ip ?? '127.0.0.1', deadline - started);
          this.deps.log(result.ok ? 'preStop hook finished' : 'preStop hook failed', {
            pod: this.key,
            container: c.spec.name,
            action: result.action,
            ms: Date.now() - started,
            ...(result.ok ? {} : { message: result.message }),
          });
        }
        if (!c.proc) return;
        const termMs = opts.preStop ? Math.max(deadline - Date.now(), minGraceAfterHookMs) : graceMs;
        this.deps.log('stopping container', { pod: this.key, container: c.spec.name, signal: 'SIGTERM', killAfterMs: termMs });
        await c.proc.stop(termMs);
      }),
    );
    await Promise.allSettled(this.loops);
    await this.releaseSandbox();
  }

  private async releaseSandbox(): Promise<void> {
    if (this.sandbox) await this.deps.network.removeSandbox(this.key);
  }

  private async runContainer(c: ContainerRun): Promise<void> {
    let backoff = backoffStartMs;
    while (!this.stopping) {
      const launched = await this.launch(c);
      if (this.stopping) return;
      if (!launched) {
        // Configuration not ready (a missing ConfigMap, ServiceAccount): retry like the kubelet.
        await sleep(2_000, undefined, { signal: this.abort.signal }).catch(() => undefined);
        continue;
      }
      const runStarted = Date.now();
      const probes = this.startProbes(c);
      const exit = await launched.exited;
      probes.abort();
      this.recordExit(c, launched, exit.code, exit.signal);
      c.proc = undefined;
      if (this.stopping) return;
      const exitCode = c.terminated?.exitCode ?? 1;
      if (!shouldRestart(this.policy, exitCode)) {
        this.deps.onStatusChange();
        return;
      }
      if (Date.now() - runStarted > 60_000) backoff = backoffStartMs;
      c.lastTerminated = c.terminated;
      c.terminated = undefined;
      c.restartCount++;
      c.waiting = {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(backoff / 1000)}s restarting failed container=${c.spec.name} pod=${this.pod.metadata?.name}`,
      };
      this.deps.onStatusChange();
      await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
      backoff = Math.min(backoff * 2, backoffMaxMs);
    }
  }

  private terminationLogPath(c: ContainerRun): string {
    return join(this.deps.podDir, `termination-log.${c.spec.name}`);
  }

  /** Starts the container's process; undefined (with a waiting reason set) when it cannot start yet. */
  private async launch(c: ContainerRun): Promise<ManagedProcess | undefined> {
    const sandbox = this.sandbox;
    if (!sandbox) return undefined;
    const setWaiting = (reason: string, message: string): undefined => {
      if (c.waiting?.reason !== reason || c.waiting.message !== message) {
        c.waiting = { reason, message };
        this.deps.onStatusChange();
      }
      return undefined;
    };
    let env: Record<string, string>;
    let kubeconfig: string | undefined;
    try {
      env = await resolveEnv(this.pod, c.spec, { podIp: sandbox.ip, hostIp: this.deps.hostIp }, this.deps.envSources);
      kubeconfig = await this.deps.podKubeconfig(this.pod);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return setWaiting('CreateContainerConfigError', message);
    }
    // The pod may have been stopped while the environment and kubeconfig were awaited: stop()
    // has then already passed this container (it had no process), so one started now would run
    // on, unowned, in a network namespace it keeps alive, whose host veth then collides with the
    // next sandbox of that name (a later test bed on the same subnet).
    if (this.stopping) return undefined;
    const cli = cliArgsOf(c.spec, env);
    if (!cli.ok) return setWaiting('CreateContainerError', cli.message);
    if (!existsSync(this.deps.cliPath)) {
      return setWaiting('CreateContainerError', `${this.deps.cliPath} does not exist: run \`npm run build\``);
    }
    const termLog = this.terminationLogPath(c);
    writeFileSync(termLog, '');
    const podName = this.pod.metadata?.name ?? 'pod';
    const fullEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOSTNAME: podName,
      HOME: join(this.deps.podDir, 'home'),
      TMPDIR: join(this.deps.podDir, 'tmp'),
      KENNEL_TERMINATION_LOG: termLog,
      KENNEL_POD_DIR: this.deps.podDir,
      ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
      ...env,
    };
    const cwd = c.spec.workingDir && existsSync(c.spec.workingDir) ? c.spec.workingDir : this.deps.podDir;
    const [command, ...prefixArgs] = [...sandbox.execPrefix, process.execPath, this.deps.cliPath, ...cli.args];
    const proc = startProcess({
      name: `${this.key}/${c.spec.name}`,
      command: command!,
      args: prefixArgs,
      env: fullEnv,
      cwd,
      logPath: this.deps.logPath(c.spec.name),
    });
    c.proc = proc;
    c.startedAt = now();
    c.waiting = undefined;
    c.terminated = undefined;
    c.killedBy = undefined;
    c.started = !c.spec.startupProbe;
    c.ready = !c.spec.readinessProbe && c.started;
    this.deps.log('container started', { pod: this.key, container: c.spec.name, pid: proc.pid, args: cli.args });
    this.deps.onStatusChange();
    return proc;
  }

  private recordExit(c: ContainerRun, proc: ManagedProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const signum = signal ? (osConstants.signals[signal] ?? 9) : 0;
    const exitCode = code ?? 128 + signum;
    const logTail = tail(proc.logPath, 64 * 1024);
    let reason = exitCode === 0 ? 'Completed' : 'Error';
    if (/JavaScript heap out of memory|ERR_WORKER_OUT_OF_MEMORY/.test(logTail)) reason = 'OOMKilled';
    let message = tail(this.terminationLogPath(c), maxMessageBytes).trim();
    if (!message && exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      message = logTail.slice(-fallbackLogBytes).trim();
    }
    if (!message && c.killedBy) message = c.killedBy;
    c.terminated = {
      exitCode,
      reason,
      ...(signal ? { signal: signum } : {}),
      ...(message ? { message } : {}),
      startedAt: c.startedAt ?? now(),
      finishedAt: now(),
      containerID: `kennel://${proc.pid}`,
    };
    c.ready = false;
    c.started = false;
    this.deps.log('container exited', { pod: this.key, container: c.spec.name, exitCode, reason });
  }

  /** Runs the container's startup, liveness and readiness probes until the returned controller aborts. */
  private startProbes(c: ContainerRun): AbortController {
    const ctl = new AbortController();
    const podIp = this.sandbox?.ip ?? '127.0.0.1';
    const loop = async (probe: V1Probe, kind: 'startup' | 'liveness' | 'readiness'): Promise<void> => {
      const signal = ctl.signal;
      const wait = (ms: number): Promise<void> => sleep(ms, undefined, { signal }).catch(() => undefined);
      await wait((probe.initialDelaySeconds ?? 0) * 1000);
      let failures = 0;
      let successes = 0;
      while (!signal.aborted) {
        if (kind !== 'startup' && !c.started) {
          await wait(200);
          continue;
        }
        const result = await runProbe(probe, c.spec, podIp);
        if (signal.aborted) return;
        if (result.ok) {
          failures = 0;
          successes++;
          if (kind === 'startup' && !c.started) {
            c.started = true;
            if (!c.spec.readinessProbe) c.ready = true;
            this.deps.onStatusChange();
            return;
          }
          if (kind === 'readiness' && !c.ready && successes >= (probe.successThreshold ?? 1)) {
            c.ready = true;
            this.deps.onStatusChange();
          }
        } else {
          successes = 0;
          failures++;
          if (failures >= (probe.failureThreshold ?? 3)) {
            if (kind === 'readiness') {
              if (c.ready) {
                c.ready = false;
                this.deps.onStatusChange();
              }
            } else {
              c.killedBy = `${kind} probe failed: ${result.message}`;
              this.deps.log('probe failed, killing container', { pod: this.key, container: c.spec.name, kind, message: result.message });
              void c.proc?.stop((this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
              return;
            }
          }
        }
        await wait((probe.periodSeconds ?? 10) * 1000);
      }
    };
    if (c.spec.startupProbe) void loop(c.spec.startupProbe, 'startup');
    if (c.spec.livenessProbe) void loop(c.spec.livenessProbe, 'liveness');
    if (c.spec.readinessProbe) void loop(c.spec.readinessProbe, 'readiness');
    return ctl;
  }

  private condition(type: string, ok: boolean): V1PodCondition {
    const status = ok ? 'True' : 'False';
    const prev = this.conditionTimes.get(type);
    if (!prev || prev.status !== status) this.conditionTimes.set(type, { status, time: now() });
    return { type, status, lastTransitionTime: this.conditionTimes.get(type)!.time };
  }

  /** The pod's status as the kubelet would report it now. */
  status(): V1PodStatus {
    const statuses: V1ContainerStatus[] = this.containers.map((c) => {
      const running = c.proc && !c.proc.hasExited() && c.startedAt;
      const state: V1ContainerStatus['state'] = running
        ? { running: { startedAt: c.startedAt } }
        : c.terminated
          ? { terminated: c.terminated }
          : { waiting: c.waiting ?? { reason: 'ContainerCreating' } };
      return {
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: kennelImageOf(c.spec.image) ? `kennel-testbed://${kennelImageOf(c.spec.image)}` : '',
        ...(c.proc ? { containerID: `kennel://${c.proc.pid}` } : c.terminated?.containerID ? { containerID: c.terminated.containerID } : {}),
        ready: Boolean(running) && c.ready,
        started: Boolean(running) && c.started,
        restartCount: c.restartCount,
        state,
        ...(c.lastTerminated ? { lastState: { terminated: c.lastTerminated } } : {}),
      };
    });
    const phase = podPhase(this.policy, statuses);
    const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
    const sandboxIp = this.sandbox?.ip;
    const conditions = [
      this.condition('PodReadyToStartContainers', Boolean(this.sandbox)),
      this.condition('Initialized', true),
      this.condition('ContainersReady', allReady),
      this.condition('Ready', allReady),
      this.condition('PodScheduled', true),
    ];
    return {
      phase,
      conditions,
      hostIP: this.deps.hostIp,
      hostIPs: [{ ip: this.deps.hostIp }],
      // The address stays in the status after the sandbox is released, as with a real kubelet.
      ...(sandboxIp ? { podIP: sandboxIp, podIPs: [{ ip: sandboxIp }] } : {}),
      startTime: this.startTime,
      containerStatuses: statuses,
      qosClass: this.pod.status?.qosClass,
    };
  }

  isTerminal(): boolean {
    const phase = this.status().phase;
    return phase === 'Succeeded' || phase === 'Failed';
  }
}

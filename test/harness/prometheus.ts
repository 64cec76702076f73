import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { onExitCleanup } from '../../local-cluster/exit-hooks.js';
import { startProcess, type ManagedProcess } from '../../local-cluster/managed-process.js';
import { freePort, waitFor } from '../../local-cluster/net-utils.js';
import { renderPrometheusConfig, type PodLike, type PodMonitoringLike, type TargetDiscovery } from './prometheus-config.js';

function lastLogLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').pop()?.slice(0, 1000) ?? '';
  } catch {
    return '';
  }
}

/** Debian's package `prometheus` (`apt-get install -y prometheus`) installs it here. */
export const DEFAULT_PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** One series of an instant-query answer. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromTarget {
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly health: string;
  readonly lastError: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Prometheus {
  /** `http://127.0.0.1:PORT` of the Prometheus HTTP API and UI. */
  readonly url: string;
  readonly logPath: string;
  readonly configPath: string;
  /** Instant query (`/api/v1/query`) of a PromQL expression returning a vector or scalar. */
  query(promql: string): Promise<PromSample[]>;
  /** Polls `query(promql)` until `accept` holds for the answer; the timeout error shows the last answer and the targets. */
  waitForQuery(promql: string, accept: (samples: PromSample[]) => boolean, opts?: { timeoutMs?: number; what?: string }): Promise<PromSample[]>;
  /** Active scrape targets with their health (`/api/v1/targets`). */
  targets(): Promise<PromTarget[]>;
  /** Re-renders the config (e.g. with newly resolved static pods) and reloads Prometheus. */
  update(podMonitorings: readonly PodMonitoringLike[], discovery: TargetDiscovery): Promise<void>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  readonly podMonitorings: readonly PodMonitoringLike[];
  /**
   * How targets are found. Debian's build of Prometheus leaves out Kubernetes service discovery
   * (`kubernetes_sd_configs` is rejected as an unknown field), so with it use `static` pods, or
   * `followPods` below, which keeps static targets in step with the cluster.
   */
  readonly discovery?: TargetDiscovery;
  /**
   * Re-lists the pods every `refreshMs` (default 1000) and reloads Prometheus when the targets
   * change (a rollout replaced pods): static targets that follow the PodMonitoring's selector.
   * Takes the place of `discovery`.
   */
  readonly followPods?: { readonly list: () => Promise<readonly PodLike[]>; readonly refreshMs?: number };
  /** State directory (config, TSDB, log); a temp dir removed by stop() by default. */
  readonly dir?: string;
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

/**
 * Starts a real Prometheus on a random loopback port, scraping what the given PodMonitorings
 * select (see prometheus-config.ts), and resolves once it answers /-/ready. Stopped by stop(),
 * or by an exit hook if the test process ends first. Throws a clear error when the binary is
 * missing.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<Prometheus> {
  const binary = opts.binary ?? DEFAULT_PROMETHEUS_BINARY;
  if (!existsSync(binary)) throw new Error(`Prometheus not found at ${binary}: install Debian's package with \`apt-get install -y prometheus\``);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kennel-prometheus-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'prometheus.yml');
  const render = (pms: readonly PodMonitoringLike[], discovery: TargetDiscovery): string => stringify(renderPrometheusConfig(pms, discovery));
  const writeConfig = (pms: readonly PodMonitoringLike[], discovery: TargetDiscovery): void => writeFileSync(configPath, render(pms, discovery));
  let podMonitorings = opts.podMonitorings;
  const initialDiscovery: TargetDiscovery | undefined = opts.followPods ? { kind: 'static', pods: await opts.followPods.list() } : opts.discovery;
  if (!initialDiscovery) throw new Error('startPrometheus: give discovery or followPods');
  writeConfig(podMonitorings, initialDiscovery);
  const removeDir = (): void => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onExitCleanup(removeDir);

  let proc: ManagedProcess | undefined;
  let url = '';
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    proc = startProcess({
      name: 'prometheus',
      command: binary,
      args: [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--storage.tsdb.retention.time=1d',
      ],
      logPath: join(dir, 'prometheus.log'),
      cwd: dir,
    });
    const p = proc;
    try {
      await waitFor(() => fetch(`${url}/-/ready`).then((r) => (r.ok ? true : undefined)), {
        timeoutMs: opts.startTimeoutMs ?? 30_000,
        intervalMs: 100,
        what: `Prometheus to be ready on ${url} (log: ${p.logPath})`,
        abort: () => (p.hasExited() ? new Error(`Prometheus exited: ${lastLogLine(p.logPath)}`) : undefined),
      });
      break;
    } catch (err) {
      await p.stop(2_000);
      // The port may have been taken between freePort() and bind: try another, twice.
      if (attempt >= 2 || /Error loading config/.test(lastLogLine(p.logPath))) {
        // The error carries Prometheus's last log line; the state directory goes.
        removeDir();
        unregister();
        throw err;
      }
    }
  }
  const running = proc;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  const query = async (promql: string): Promise<PromSample[]> => {
    const data = await api<{ resultType: string; result: unknown }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    if (data.resultType !== 'vector') throw new Error(`expected a vector from ${promql}, got ${data.resultType}`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  };
  const targets = async (): Promise<PromTarget[]> => {
    const data = await api<{ activeTargets: PromTarget[] }>('/api/v1/targets?state=active');
    return data.activeTargets.map((t) => ({ scrapePool: t.scrapePool, scrapeUrl: t.scrapeUrl, health: t.health, lastError: t.lastError, labels: t.labels }));
  };

  let stopped = false;
  const update = async (pms: readonly PodMonitoringLike[], discovery: TargetDiscovery): Promise<void> => {
    podMonitorings = pms;
    writeConfig(pms, discovery);
    const res = await fetch(`${url}/-/reload`, { method: 'POST' });
    if (!res.ok) throw new Error(`Prometheus reload failed: ${res.status} ${await res.text()}`);
  };
  let follower: Promise<void> | undefined;
  if (opts.followPods) {
    const follow = opts.followPods;
    follower = (async () => {
      let current = readFileSync(configPath, 'utf8');
      while (!stopped) {
        await new Promise((r) => setTimeout(r, follow.refreshMs ?? 1000));
        if (stopped) break;
        try {
          const discovery: TargetDiscovery = { kind: 'static', pods: await follow.list() };
          const next = render(podMonitorings, discovery);
          if (next !== current) {
            await update(podMonitorings, discovery);
            current = next;
          }
        } catch {
          // The API server or Prometheus is briefly unavailable: try again on the next tick.
        }
      }
    })();
  }
  return {
    url,
    logPath: running.logPath,
    configPath,
    query,
    targets,
    async waitForQuery(promql, accept, o = {}) {
      let last: PromSample[] | string = 'no answer yet';
      try {
        return await waitFor(
          async () => {
            const samples = await query(promql);
            last = samples;
            return accept(samples) ? samples : undefined;
          },
          { timeoutMs: o.timeoutMs ?? 60_000, intervalMs: 500, what: o.what ?? `PromQL ${promql}` },
        );
      } catch (err) {
        const t = await targets().catch(() => []);
        throw new Error(
          `${err instanceof Error ? err.message : String(err)}; last answer ${JSON.stringify(last)}; targets ${JSON.stringify(t)} (log: ${running.logPath})`,
        );
      }
    },
    update,
    async stop() {
      if (stopped) return;
      stopped = true;
      await follower;
      await running.stop(5_000);
      removeDir();
      unregister();
    },
  };
}

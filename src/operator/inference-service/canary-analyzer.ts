import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { AnalysisSample } from './analysis.js';
import type { PodWire } from '../shared/wire.js';
import { SERVER_PORT } from './desired.js';
import { addSnapshots, diffSnapshots, parseServeMetrics, sampleOf, type MetricsSnapshot } from './canary-metrics.js';

/** Which canary is measured: the InferenceService's key (`namespace/name`) and the version on trial. */
export interface CanaryKey {
  service: string;
  modelVersion: string;
}

/**
 * Measures a canary over its analysis window: scrapes every ready canary pod's /metrics at its
 * pod IP, remembers the summed snapshots per InferenceService, for the version on trial (in
 * memory: after an operator restart the window starts again, which only delays a verdict), and
 * returns what happened within the window — or everything since the pods started when the
 * window is not yet covered. A service keeps one canary's history at a time: measuring another
 * version starts afresh, and `forget(service)` (a rollout ended, or the service is gone) drops it.
 */
export interface CanaryAnalyzer {
  measure(key: CanaryKey, pods: readonly PodWire[], windowMs: number): Promise<AnalysisSample | undefined>;
  /** Drops what is remembered for the InferenceService `namespace/name`. */
  forget(service: string): void;
  /** How many InferenceServices have measurements remembered (memory held). */
  size(): number;
}

export function createCanaryAnalyzer(options: { clock: Clock; logger: Logger; port?: number; timeoutMs?: number; fetchImpl?: typeof fetch }): CanaryAnalyzer {
  const history = new Map<string, { modelVersion: string; list: Array<{ at: number; snapshot: MetricsSnapshot }> }>();
  const port = options.port ?? SERVER_PORT;
  const doFetch = options.fetchImpl ?? fetch;

  async function scrape(ip: string): Promise<MetricsSnapshot | undefined> {
    try {
      const res = await doFetch(`http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/metrics`, { signal: AbortSignal.timeout(options.timeoutMs ?? 3_000) });
      if (!res.ok) return undefined;
      return parseServeMetrics(await res.text());
    } catch (err) {
      options.logger.debug({ err, ip }, 'canary pod metrics not readable');
      return undefined;
    }
  }

  return {
    async measure(key, pods, windowMs) {
      const ips = pods
        .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .flatMap((p) => (p.status?.podIP ? [p.status.podIP] : []));
      if (ips.length === 0) return undefined;
      const snapshots = (await Promise.all(ips.map(scrape))).filter((s): s is MetricsSnapshot => s !== undefined);
      if (snapshots.length === 0) return undefined;
      const total = snapshots.reduce(addSnapshots);
      const now = options.clock.now();
      const kept = history.get(key.service);
      const list = (kept?.modelVersion === key.modelVersion ? kept.list : []).filter((h) => now - h.at <= windowMs * 3);
      list.push({ at: now, snapshot: total });
      history.set(key.service, { modelVersion: key.modelVersion, list });
      // The newest snapshot at least a window old is the window's start.
      const start = [...list].reverse().find((h) => now - h.at >= windowMs);
      return sampleOf(start ? diffSnapshots(total, start.snapshot) : total);
    },
    forget(service) {
      history.delete(service);
    },
    size: () => history.size,
  };
}

import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { AnalysisSample } from './analysis.js';
import type { PodWire } from '../shared/wire.js';
import { SERVER_PORT } from './desired.js';
import { addSnapshots, diffSnapshots, parseServeMetrics, sampleOf, type MetricsSnapshot } from './canary-metrics.js';
import type { CanaryKey, Checkpoint, CheckpointStore } from './canary-checkpoints.js';

export type { CanaryKey } from './canary-checkpoints.js';

/**
 * Measures a canary over its analysis window: scrapes every ready canary pod's /metrics at its
 * pod IP, remembers the summed snapshots per InferenceService for the canary on trial, and
 * returns what happened within the window — or everything since the pods started when the
 * window is not yet covered. A service keeps one canary's history at a time: measuring another
 * version (or another rollout of it) starts afresh, and `forget(service)` (a rollout ended, or
 * the service is gone) drops it.
 *
 * The history is also checkpointed in the cluster (a CheckpointStore; at most one write per
 * checkpoint interval, a quarter of the window and at least 5 s): an analyzer that has nothing
 * in memory for a canary (a new leader) starts from the checkpoints, so its window reaches back
 * to before it led, with a start at most one checkpoint interval older than the window asks.
 */
export interface CanaryAnalyzer {
  measure(key: CanaryKey, pods: readonly PodWire[], windowMs: number): Promise<AnalysisSample | undefined>;
  /** Drops what is remembered for the InferenceService `namespace/name`. */
  forget(service: string): void;
  /** How many InferenceServices have measurements remembered (memory held). */
  size(): number;
}

/** How far apart the checkpoints kept in the cluster are. */
export const checkpointIntervalMs = (windowMs: number): number => Math.max(5_000, windowMs / 4);

/** The oldest, then each one at least `intervalMs` after the previous kept, and always the newest. */
export function thinCheckpoints(list: readonly Checkpoint[], intervalMs: number): Checkpoint[] {
  const kept: Checkpoint[] = [];
  for (const c of list) {
    const last = kept.at(-1);
    if (!last || c.at - last.at >= intervalMs) kept.push(c);
  }
  const newest = list.at(-1);
  if (newest && kept.at(-1) !== newest) kept.push(newest);
  return kept;
}

interface Remembered {
  key: CanaryKey;
  list: Checkpoint[];
  /** When the newest checkpoint in the store was taken (undefined: none written yet). */
  savedAt: number | undefined;
}

export function createCanaryAnalyzer(options: { clock: Clock; logger: Logger; store?: CheckpointStore; port?: number; timeoutMs?: number; fetchImpl?: typeof fetch }): CanaryAnalyzer {
  const history = new Map<string, Remembered>();
  const port = options.port ?? SERVER_PORT;
  const doFetch = options.fetchImpl ?? fetch;
  const { store, logger } = options;

  async function scrape(ip: string): Promise<MetricsSnapshot | undefined> {
    try {
      const res = await doFetch(`http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/metrics`, { signal: AbortSignal.timeout(options.timeoutMs ?? 3_000) });
      if (!res.ok) return undefined;
      return parseServeMetrics(await res.text());
    } catch (err) {
      logger.debug({ err, ip }, 'canary pod metrics not readable');
      return undefined;
    }
  }

  /** What is remembered for this canary: from memory, else from the store (a new leader), else nothing. */
  function remembered(key: CanaryKey): Remembered {
    const kept = history.get(key.service);
    if (kept && kept.key.modelVersion === key.modelVersion && kept.key.startedAt === key.startedAt) return kept;
    const loaded = store?.load(key) ?? [];
    if (loaded.length > 0) {
      logger.info(
        { service: key.service, modelVersion: key.modelVersion, checkpoints: loaded.length, oldest: new Date(loaded[0]?.at ?? 0).toISOString() },
        'canary analysis resumed from the checkpoints kept in the cluster',
      );
    }
    return { key, list: loaded, savedAt: loaded.at(-1)?.at };
  }

  async function checkpoint(r: Remembered, windowMs: number, now: number): Promise<void> {
    const interval = checkpointIntervalMs(windowMs);
    if (!store || (r.savedAt !== undefined && now - r.savedAt < interval)) return;
    try {
      await store.save(r.key, thinCheckpoints(r.list, interval));
      r.savedAt = now;
    } catch (err) {
      // The analysis goes on from memory; the next measurement tries again.
      logger.warn({ err, service: r.key.service, modelVersion: r.key.modelVersion }, 'canary analysis checkpoint not written');
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
      const r = remembered(key);
      r.list = r.list.filter((h) => now - h.at <= windowMs * 3);
      r.list.push({ at: now, snapshot: total });
      history.set(key.service, r);
      await checkpoint(r, windowMs, now);
      // The newest snapshot at least a window old is the window's start.
      const start = [...r.list].reverse().find((h) => now - h.at >= windowMs);
      return sampleOf(start ? diffSnapshots(total, start.snapshot) : total);
    },
    forget(service) {
      history.delete(service);
    },
    size: () => history.size,
  };
}

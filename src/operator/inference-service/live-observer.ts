import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { PodWire } from '../shared/wire.js';
import { SERVER_PORT } from './desired.js';
import { parseLiveCounters, type LiveCounters } from './live-metrics.js';
import { addScrape, windowCounters, type PodReading, type Scrape } from './live-window.js';

/**
 * Reads every running serving pod's `/metrics` (at its pod IP, as the canary analysis does: no
 * Prometheus needed) for one version's live counters, keeps the scrapes a window needs per
 * InferenceService (in memory: after an operator restart the window fills again), and returns
 * what happened over the window. Pods of every version are read: feedback on this version's
 * predictions may arrive at any of them.
 */
export interface LiveObserver {
  measure(key: string, pods: readonly PodWire[], version: string, windowMs: number): Promise<{ counters: LiveCounters; coveredMs: number } | undefined>;
  forget(key: string): void;
}

export function createLiveObserver(options: { clock: Clock; logger: Logger; port?: number; timeoutMs?: number; fetchImpl?: typeof fetch }): LiveObserver {
  const histories = new Map<string, { version: string; scrapes: Scrape[] }>();
  const port = options.port ?? SERVER_PORT;
  const doFetch = options.fetchImpl ?? fetch;

  async function read(pod: PodWire, version: string): Promise<PodReading | undefined> {
    const ip = pod.status?.podIP;
    const uid = pod.metadata?.uid ?? pod.metadata?.name;
    if (!ip || !uid) return undefined;
    try {
      const res = await doFetch(`http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/metrics`, { signal: AbortSignal.timeout(options.timeoutMs ?? 3_000) });
      if (!res.ok) return undefined;
      return { pod: uid, counters: parseLiveCounters(await res.text(), version) };
    } catch (err) {
      options.logger.debug({ err, ip }, 'serving pod metrics not readable');
      return undefined;
    }
  }

  return {
    async measure(key, pods, version, windowMs) {
      // Terminating pods too: they answer until their drain ends, and what they counted is theirs.
      const running = pods.filter((p) => p.status?.phase === 'Running');
      const readings = (await Promise.all(running.map((p) => read(p, version)))).filter((r): r is PodReading => r !== undefined);
      if (readings.length === 0) return undefined;
      const previous = histories.get(key);
      // A new serving version starts a new window.
      const scrapes = addScrape(previous?.version === version ? previous.scrapes : [], { at: options.clock.now(), readings }, windowMs);
      histories.set(key, { version, scrapes });
      return windowCounters(scrapes, windowMs);
    },
    forget(key) {
      histories.delete(key);
    },
  };
}

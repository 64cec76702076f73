import { addCounters, diffCounters, ZERO_COUNTERS, type LiveCounters } from './live-metrics.js';

/** One pod's counters at one scrape, keyed by pod UID. */
export interface PodReading {
  readonly pod: string;
  readonly counters: LiveCounters;
}

/** Every reachable serving pod, read at one moment (epoch ms). */
export interface Scrape {
  readonly at: number;
  readonly readings: readonly PodReading[];
}

/**
 * Adds a scrape to a history and drops what no window ending now needs: every scrape inside the
 * window, plus the newest one before it (the window's start). Pure.
 */
export function addScrape(history: readonly Scrape[], scrape: Scrape, windowMs: number): Scrape[] {
  const all = [...history, scrape];
  const start = scrape.at - windowMs;
  const firstInside = all.findIndex((s) => s.at > start);
  return all.slice(Math.max(0, firstInside - 1));
}

/**
 * What happened over the window ending at the last scrape, all pods together, the way
 * Prometheus' increase() sums per series: for each pod, its last reading minus its reading at
 * the window's start (zero for a pod that started since, whose counters began at zero), so a
 * pod that left during the window (a rollout, a kill) still counts for what it did, and a pod's
 * restart never makes the sum go down. Before a whole window has been seen, the window is what
 * has been seen (`coveredMs`). Pure.
 */
export function windowCounters(history: readonly Scrape[], windowMs: number): { counters: LiveCounters; coveredMs: number } | undefined {
  const last = history.at(-1);
  if (!last) return undefined;
  const startAt = last.at - windowMs;
  const start = [...history].reverse().find((s) => s.at <= startAt) ?? (history[0] as Scrape);
  const atStart = new Map(start.readings.map((r) => [r.pod, r.counters]));
  const latest = new Map<string, LiveCounters>();
  for (const s of history) if (s.at >= start.at) for (const r of s.readings) latest.set(r.pod, r.counters);
  let counters = ZERO_COUNTERS;
  for (const [pod, now] of latest) counters = addCounters(counters, diffCounters(now, atStart.get(pod) ?? ZERO_COUNTERS));
  return { counters, coveredMs: last.at - start.at };
}

import { readFileSync, readdirSync } from 'node:fs';

/**
 * The process group of the test bed's container process for pod `podName` (the node agent starts
 * each container as a process group of its own, with `HOSTNAME` set to the pod's name), or
 * undefined when none runs.
 */
export function podProcessGroup(podName: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!environ.includes(`HOSTNAME=${podName}`) || !environ.some((e) => e.startsWith('KENNEL_POD_DIR='))) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp > 1) return pgrp;
    } catch {
      // the process ended, or is not ours to read
    }
  }
  return undefined;
}

/** SIGKILL (no grace, no preStop) the container process group of pod `podName`. */
export function sigkillPod(podName: string): number {
  const pgrp = podProcessGroup(podName);
  if (pgrp === undefined) throw new Error(`no process found for pod ${podName}`);
  process.kill(-pgrp, 'SIGKILL');
  return pgrp;
}

export interface LoadResult {
  readonly sentAt: number;
  readonly doneAt: number;
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
}

/**
 * Open-loop load: `rate` requests a second to `url` (a POST of `body`) until stop() is called;
 * every request's send and completion time (ms, performance.now()) and outcome is recorded.
 */
export function startLoad(url: string, body: Buffer, rate: number): { results: LoadResult[]; inFlight: () => number; stop: () => Promise<void> } {
  const results: LoadResult[] = [];
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  const tick = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const sentAt = performance.now();
      const p = fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg' }, signal: AbortSignal.timeout(30_000) })
        .then(
          async (res) => {
            await res.arrayBuffer();
            results.push({ sentAt, doneAt: performance.now(), ok: res.ok, status: res.status });
          },
          (err: unknown) => void results.push({ sentAt, doneAt: performance.now(), ok: false, error: err instanceof Error ? `${err.message} ${String((err.cause as Error | undefined)?.message ?? '')}` : String(err) }),
        )
        .finally(() => pending.delete(p));
      pending.add(p);
    }
  }, 10);
  return {
    results,
    inFlight: () => pending.size,
    stop: async () => {
      clearInterval(tick);
      await Promise.all([...pending]);
    },
  };
}

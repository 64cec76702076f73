import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createPredictClient } from '../../../src/worker/evaluate-url/predict-client.js';

export interface LoadStats {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  /** Failed requests by kind (`HTTP 503 NotReady`, `connection reset` ...), with a few examples. */
  readonly errors: Readonly<Record<string, number>>;
  /** Which model versions answered, with counts. */
  readonly versions: Readonly<Record<string, number>>;
  readonly examples: readonly string[];
}

export interface SteadyLoad {
  /** Counts since the start (or since the last reset). */
  stats(): LoadStats;
  /** Starts counting afresh (e.g. at the start of a scenario). */
  reset(): void;
  stop(): Promise<LoadStats>;
}

/**
 * A steady stream of predictions: `concurrency` clients, each posting the next photo of `photos`
 * to `url` and pausing `pauseMs` between requests (2 cores are shared with the control plane,
 * the operator and the pods, so the load is kept light and constant). Every outcome is counted.
 */
export async function startSteadyLoad(opts: { url: string; photos: readonly string[]; concurrency?: number; pauseMs?: number; timeoutMs?: number }): Promise<SteadyLoad> {
  const images = await Promise.all(opts.photos.map(async (p) => ({ name: path.basename(p), bytes: await readFile(p) })));
  if (images.length === 0) throw new Error('steady load needs at least one photo');
  const predict = createPredictClient({ baseUrl: opts.url, timeoutMs: opts.timeoutMs ?? 30_000 });
  let counts = { total: 0, ok: 0, failed: 0, errors: {} as Record<string, number>, versions: {} as Record<string, number>, examples: [] as string[] };
  let stopped = false;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const img = images[i++ % images.length] as { name: string; bytes: Buffer };
      const out = await predict(img.bytes, img.name);
      counts.total++;
      if (out.ok) {
        counts.ok++;
        const v = out.version ?? '?';
        counts.versions[v] = (counts.versions[v] ?? 0) + 1;
      } else {
        counts.failed++;
        counts.errors[out.kind] = (counts.errors[out.kind] ?? 0) + 1;
        if (counts.examples.length < 5) counts.examples.push(`${new Date().toISOString()} ${out.kind}: ${out.message}`);
      }
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 100));
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 2 }, worker);
  const snapshot = (): LoadStats => ({ ...counts, errors: { ...counts.errors }, versions: { ...counts.versions }, examples: [...counts.examples] });
  return {
    stats: snapshot,
    reset() {
      counts = { total: 0, ok: 0, failed: 0, errors: {}, versions: {}, examples: [] };
    },
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return snapshot();
    },
  };
}

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
  /** Feedback sent (`feedback` option; counted when its answer or error arrives), accepted (200) and refused, by status and reason. */
  readonly feedback: { readonly sent: number; readonly accepted: number; readonly refused: Readonly<Record<string, number>> };
}

/** A prediction the service answered, and the feedback it got when it got some. */
export interface Answered {
  readonly predictionId: string;
  readonly version: string;
  /** The answer's label: null when the model was unsure (below the server's --min-confidence). */
  readonly label: string | null;
  /** The model's top class (what feedback is judged against, also for an unsure answer). */
  readonly top: string;
  readonly photo: string;
  /** The true label sent as feedback and acknowledged with 200. */
  feedback?: { readonly label: string; readonly version: string };
}

export interface SteadyLoad {
  /** Counts since the start (or since the last reset). */
  stats(): LoadStats;
  /** Starts counting afresh (e.g. at the start of a scenario). */
  reset(): void;
  /** Every prediction answered since the start (never reset), with its feedback. */
  answered(): readonly Answered[];
  stop(): Promise<LoadStats>;
}

export interface FeedbackOptions {
  /** Send feedback on one prediction in `every`. */
  readonly every: number;
  /** The true label of a photo (its class folder). */
  readonly labelOf: (photo: string) => string;
}

/**
 * A steady stream of predictions: `concurrency` clients, each posting the next photo of `photos`
 * to `url` and pausing `pauseMs` between requests (2 cores are shared with the control plane,
 * the operator and the pods, so the load is kept light and constant). Every outcome is counted.
 * With `feedback`, one prediction in `every` is followed by `POST /feedback` with the photo's
 * true label, through the same URL (so usually to another replica), as a person correcting or
 * confirming it would.
 */
export async function startSteadyLoad(opts: { url: string; photos: readonly string[]; concurrency?: number; pauseMs?: number; timeoutMs?: number; feedback?: FeedbackOptions }): Promise<SteadyLoad> {
  const images = await Promise.all(opts.photos.map(async (p) => ({ path: p, name: path.basename(p), bytes: await readFile(p) })));
  if (images.length === 0) throw new Error('steady load needs at least one photo');
  const predict = createPredictClient({ baseUrl: opts.url, timeoutMs: opts.timeoutMs ?? 30_000 });
  const fresh = () => ({ total: 0, ok: 0, failed: 0, errors: {} as Record<string, number>, versions: {} as Record<string, number>, examples: [] as string[], feedback: { sent: 0, accepted: 0, refused: {} as Record<string, number> } });
  let counts = fresh();
  const answered: Answered[] = [];
  let stopped = false;
  let i = 0;
  const note = (kind: string, message: string): void => {
    if (counts.examples.length < 5) counts.examples.push(`${new Date().toISOString()} ${kind}: ${message}`);
  };
  // A feedback is counted as sent when its outcome is counted, in the same window: counting it
  // before the request would let a reset() in between count an acceptance that was never sent.
  const sendFeedback = async (a: Answered, label: string): Promise<void> => {
    try {
      const res = await fetch(`${opts.url}/feedback`, { method: 'POST', body: JSON.stringify({ predictionId: a.predictionId, label }), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
      const body = (await res.json().catch(() => ({}))) as { version?: string; reason?: string; error?: string };
      counts.feedback.sent++;
      if (res.status === 200 && typeof body.version === 'string') {
        counts.feedback.accepted++;
        a.feedback = { label, version: body.version };
      } else {
        const kind = `HTTP ${res.status} ${body.reason ?? ''}`.trim();
        counts.feedback.refused[kind] = (counts.feedback.refused[kind] ?? 0) + 1;
        note(`feedback ${kind}`, body.error ?? '');
      }
    } catch (err) {
      counts.feedback.sent++;
      counts.feedback.refused['network error'] = (counts.feedback.refused['network error'] ?? 0) + 1;
      note('feedback network error', err instanceof Error ? err.message : String(err));
    }
  };
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const img = images[i++ % images.length] as { path: string; name: string; bytes: Buffer };
      const out = await predict(img.bytes, img.name);
      counts.total++;
      if (out.ok) {
        counts.ok++;
        const v = out.version ?? '?';
        counts.versions[v] = (counts.versions[v] ?? 0) + 1;
        if (out.predictionId) {
          const a: Answered = { predictionId: out.predictionId, version: v, label: out.label, top: out.top ?? out.label ?? '?', photo: img.path };
          answered.push(a);
          if (opts.feedback && answered.length % opts.feedback.every === 0) await sendFeedback(a, opts.feedback.labelOf(img.path));
        }
      } else {
        counts.failed++;
        counts.errors[out.kind] = (counts.errors[out.kind] ?? 0) + 1;
        note(out.kind, out.message);
      }
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 100));
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 2 }, worker);
  const snapshot = (): LoadStats => ({
    ...counts,
    errors: { ...counts.errors },
    versions: { ...counts.versions },
    examples: [...counts.examples],
    feedback: { ...counts.feedback, refused: { ...counts.feedback.refused } },
  });
  return {
    stats: snapshot,
    reset() {
      counts = fresh();
    },
    answered: () => answered,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return snapshot();
    },
  };
}

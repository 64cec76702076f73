import type { PredictOutcome } from './summarize.js';

export interface PredictClientOptions {
  /** Base URL of the service, without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** The fetch to use (tests and callers may pass their own); global fetch by default. */
  readonly fetch?: typeof fetch;
}

/** A function that sends one image to `POST /predict` and never throws. */
export type PredictClient = (image: Buffer, filename: string) => Promise<PredictOutcome>;

const REASON = /^[A-Za-z][A-Za-z0-9]{0,39}$/;

/** A short, bounded name for a network failure, from the error's code (fetch wraps it in `cause`). */
export function networkErrorKind(err: unknown): string {
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns failure';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? `network ${code}` : 'network error';
  }
}

/**
 * A client of the inference server's `POST /predict` contract (multipart field `file`; answer
 * `{label, confidence, version, ...}`; errors `{error, reason}` with a 4xx/5xx status). Every
 * outcome, failures included, comes back as a value with its latency in milliseconds, so one
 * bad photo or a dropped connection is counted, not fatal. Failure kinds are bounded strings:
 * `HTTP <status> <reason>`, `timeout`, `connection refused`, `connection reset`, `bad response`.
 */
export function createPredictClient(options: PredictClientOptions): PredictClient {
  const doFetch = options.fetch ?? fetch;
  const endpoint = `${options.baseUrl}/predict`;
  return async (image, filename) => {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    const form = new FormData();
    form.append('file', new Blob([Uint8Array.from(image)]), filename);
    let res: Response;
    let text: string;
    try {
      res = await doFetch(endpoint, { method: 'POST', body: form, signal: AbortSignal.timeout(options.timeoutMs) });
      text = await res.text();
    } catch (err) {
      return { ok: false, kind: networkErrorKind(err), message: err instanceof Error ? err.message : String(err), latencyMs: elapsed() };
    }
    const latencyMs = elapsed();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const b = (body ?? {}) as { label?: unknown; confidence?: unknown; probabilities?: unknown; version?: unknown; predictionId?: unknown; reason?: unknown; error?: unknown };
    if (!res.ok) {
      const reason = typeof b.reason === 'string' && REASON.test(b.reason) ? ` ${b.reason}` : '';
      const message = typeof b.error === 'string' ? b.error : text.slice(0, 200);
      return { ok: false, kind: `HTTP ${res.status}${reason}`, message, latencyMs };
    }
    // label null: the model was unsure (below the server's --min-confidence); still an answer.
    if ((typeof b.label !== 'string' && b.label !== null) || typeof b.confidence !== 'number') {
      return { ok: false, kind: 'bad response', message: `expected {label, confidence}, got ${text.slice(0, 200)}`, latencyMs };
    }
    const top = mostProbable(b.probabilities);
    return {
      ok: true,
      label: b.label,
      confidence: b.confidence,
      latencyMs,
      ...(top !== undefined ? { top } : {}),
      ...(typeof b.version === 'string' ? { version: b.version } : {}),
      ...(typeof b.predictionId === 'string' ? { predictionId: b.predictionId } : {}),
    };
  };
}

/** The class with the highest probability in an answer's `probabilities` map (undefined without one). */
function mostProbable(probabilities: unknown): string | undefined {
  if (typeof probabilities !== 'object' || probabilities === null) return undefined;
  let best: string | undefined;
  let bestP = -Infinity;
  for (const [c, p] of Object.entries(probabilities)) {
    if (typeof p === 'number' && p > bestP) {
      best = c;
      bestP = p;
    }
  }
  return best;
}

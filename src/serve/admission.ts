import type { Next } from 'koa';
import { HttpError } from '../shared/errors.js';
import type { ServeMetrics, RouteName } from './metrics.js';
import type { ServeContext } from './routes/common.js';

/** Where a request was shed: at the door (too many requests in flight) or at the model's queue. */
export type ShedStage = 'admission' | 'queue';

/** Seconds a shed client is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 1;

/**
 * 503 Overloaded: the server sheds this request instead of queueing it. Answered at once with a
 * JSON error and `Retry-After`, and counted in `kennel_serve_shed_requests_total{stage}`.
 */
export class OverloadedError extends HttpError {
  readonly stage: ShedStage;
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
  constructor(stage: ShedStage, message = 'server is overloaded, retry later') {
    super(503, 'Overloaded', message);
    this.stage = stage;
  }
}

/**
 * Bounds the prediction requests in flight (reading the body, decoding, waiting for the model,
 * running). A request beyond `maxInFlight` is refused before its body is read, so a flood costs
 * the server a header parse per request, its memory stays bounded by
 * `maxInFlight × (body limit + decoded pixels)`, and the requests it accepts wait behind at most
 * `maxInFlight − 1` others.
 */
export class Admission {
  readonly maxInFlight: number;
  readonly #metrics: ServeMetrics;
  #inFlight = 0;

  constructor(maxInFlight: number, metrics: ServeMetrics) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    this.maxInFlight = maxInFlight;
    this.#metrics = metrics;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Route middleware: names the route, then admits the request or throws OverloadedError. */
  gate(route: RouteName) {
    return async (ctx: ServeContext, next: Next): Promise<void> => {
      ctx.state.route = route;
      if (this.#inFlight >= this.maxInFlight) throw new OverloadedError('admission', `server is overloaded (${this.maxInFlight} requests in flight), retry later`);
      this.#inFlight++;
      this.#metrics.setInFlight(this.#inFlight);
      try {
        await next();
      } finally {
        this.#inFlight--;
        this.#metrics.setInFlight(this.#inFlight);
      }
    };
  }
}

import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { HttpError } from '../shared/errors.js';
import { ImageDecodeError, type ImageDecodeReason } from '../ml/image.js';
import { OverloadedError } from './admission.js';
import type { ErrorReason } from './error-reasons.js';
import type { AppDeps, ServeState } from './context.js';

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

const IMAGE_ERRORS: Record<ImageDecodeReason, { status: number; reason: ErrorReason }> = {
  empty: { status: 400, reason: 'ImageEmpty' },
  'unsupported-format': { status: 415, reason: 'ImageUnsupported' },
  corrupt: { status: 400, reason: 'ImageCorrupt' },
  'too-many-pixels': { status: 413, reason: 'ImageTooManyPixels' },
};

const STATUS_REASONS: Record<number, ErrorReason> = { 404: 'RouteNotFound', 405: 'MethodNotAllowed', 413: 'BodyTooLarge', 415: 'UnsupportedMediaType' };

interface Mapped {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
  readonly unexpected: boolean;
}

/** Maps anything thrown by a route to a status, a bounded reason and a message safe to show. */
export function mapError(err: unknown): Mapped {
  if (err instanceof HttpError) {
    // 503s (not ready, overloaded) say why; other 5xx messages stay private.
    const show = err.expose || err.status === 503;
    return { status: err.status, reason: err.reason, message: show ? err.message : 'internal error', unexpected: err.status === 500 };
  }
  if (err instanceof ImageDecodeError) {
    const m = IMAGE_ERRORS[err.reason] ?? { status: 400, reason: 'ImageCorrupt' };
    return { ...m, message: err.message, unexpected: false };
  }
  // koa / router / http-errors style errors carry status and expose.
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown } | undefined;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, reason: STATUS_REASONS[status] ?? 'InvalidRequest', message: e?.expose && typeof e.message === 'string' ? e.message : 'bad request', unexpected: false };
  }
  return { status: 500, reason: 'Internal', message: 'internal error', unexpected: true };
}

/** A body of known length up to 1 MiB: discarding it costs less than the client's reconnect. */
function smallBody(ctx: Context): boolean {
  const length = Number(ctx.get('content-length'));
  return ctx.get('content-length') !== '' && Number.isFinite(length) && length <= 1024 * 1024;
}

/**
 * The outermost middleware: gives the request an id (the client's `x-request-id` when it is a
 * sane token, else a new UUID) and echoes it, turns every error into a JSON `{"error": ...}`
 * answer with the right status (unexpected ones are 500 and logged with their stack, never
 * crash the process), counts the request in the metrics, and writes exactly one JSON log line
 * per request: id, method, route, status, latency, label and confidence. Never the body.
 */
export function requestMiddleware(deps: Pick<AppDeps, 'metrics' | 'logger'>) {
  const { metrics, logger } = deps;
  return async (ctx: Context & { state: ServeState }, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    const offered = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.route = 'unmatched';
    ctx.set('x-request-id', requestId);
    let errorReason: string | undefined;
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'RouteNotFound', 'no such route');
    } catch (err) {
      const mapped = mapError(err);
      errorReason = mapped.reason;
      ctx.status = mapped.status;
      ctx.type = 'application/json';
      ctx.body = { error: mapped.message, reason: mapped.reason, requestId };
      if (err instanceof OverloadedError) {
        ctx.set('Retry-After', String(err.retryAfterSeconds));
        metrics.observeShed(err.stage);
      }
      // An unread request body must not be parsed as the next request on this connection; a shed
      // request's small body is cheaper to discard (Node reads past it) than a new connection.
      if (!ctx.req.readableEnded && !(err instanceof OverloadedError && smallBody(ctx))) ctx.set('Connection', 'close');
      if (mapped.unexpected) logger.error({ err, requestId, route: ctx.state.route }, 'unexpected error');
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.observeRequest(ctx.state.route, ctx.status, seconds);
    if (errorReason) metrics.observeError(errorReason);
    const predictions = ctx.state.predictions;
    const single = predictions?.length === 1 ? predictions[0] : undefined;
    logger.info(
      {
        requestId,
        method: ctx.method,
        route: ctx.state.route,
        status: ctx.status,
        latencyMs: Math.round(seconds * 1e4) / 10,
        ...(single ? { label: single.label, confidence: single.confidence } : {}),
        ...(predictions && predictions.length > 1 ? { labels: predictions.map((p) => p.label), confidences: predictions.map((p) => p.confidence) } : {}),
        ...(errorReason ? { reason: errorReason } : {}),
      },
      'request',
    );
  };
}

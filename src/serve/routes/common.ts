import type { Context } from 'koa';
import { HttpError } from '../../shared/errors.js';
import type { Prediction } from '../classifier.js';
import type { AppDeps, ServeState } from '../context.js';
import type { LoadedModel } from '../model-info.js';

export type ServeContext = Context & { state: ServeState };

/**
 * The loaded model, or 503 NotReady (with the reason the model is not loaded). A stopping server
 * still answers: a request it has received was routed to it before it left the Service, and the
 * model stays loaded until the drain ends (only /readyz reports the stop).
 */
export function requireModel(deps: AppDeps): LoadedModel {
  const model = deps.model.current;
  if (model && (deps.readiness.ready || deps.readiness.state.phase === 'stopping')) return model;
  const state = deps.readiness.state;
  const why = state.phase === 'failed' ? `model failed to load: ${state.message}` : state.phase === 'stopping' ? 'server is shutting down' : 'model is still loading';
  throw new HttpError(503, 'NotReady', why);
}

/** 404 ModelNotFound unless `name` is the served model's name. */
export function requireModelName(deps: AppDeps, name: string | undefined): void {
  if (name !== deps.identity.name) throw new HttpError(404, 'ModelNotFound', `model "${String(name).slice(0, 100)}" is not served here; this server serves "${deps.identity.name}"`);
}

/**
 * Records answered predictions: counts them in the metrics, hands them to the request log,
 * and remembers them for feedback under the request id (suffixed `/<index>` when a request
 * carries several images).
 */
export function recordPredictions(deps: AppDeps, ctx: ServeContext, predictions: readonly Prediction[]): void {
  ctx.state.predictions = predictions;
  predictions.forEach((p, i) => {
    deps.metrics.observePrediction(p.top, p.confidence, p.label === null);
    deps.feedback.remember(predictions.length === 1 ? ctx.state.requestId : `${ctx.state.requestId}/${i}`, p.top);
  });
}

export function elapsedMs(startedAt: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startedAt) / 1e4) / 100;
}

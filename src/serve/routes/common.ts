import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { HttpError } from '../../shared/errors.js';
import type { Prediction } from '../classifier.js';
import type { AppDeps, ServeState } from '../context.js';
import { newPredictionNonce } from '../feedback/prediction-id.js';
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
 * Records answered predictions: counts them in the metrics, hands them to the request log, gives
 * each one a signed prediction id (what `POST /feedback` takes, on any replica), and appends one
 * record per image to the prediction log when there is one (never waiting for storage). An
 * unsure answer (label null, below --min-confidence) is logged with label null beside its top
 * class, and its id says so; feedback on it is judged against the top class. Returns the ids in
 * image order.
 */
export function recordPredictions(deps: AppDeps, ctx: ServeContext, predictions: readonly Prediction[], images: readonly Buffer[]): string[] {
  ctx.state.predictions = predictions;
  const now = Date.now();
  const time = new Date(now).toISOString();
  return predictions.map((p, i) => {
    const unsure = p.label === null;
    deps.metrics.observePrediction(p.top, p.confidence, unsure);
    const image = images[i] as Buffer;
    const sha256 = createHash('sha256').update(image).digest('hex');
    const id = newPredictionNonce();
    const predictionId = deps.feedback.issue({ id, model: deps.identity.name, version: deps.identity.version, label: p.top, ...(unsure ? { unsure } : {}), time: Math.floor(now / 1000), sha256 });
    deps.predictionLog?.recordPrediction(
      {
        id,
        time,
        requestId: predictions.length === 1 ? ctx.state.requestId : `${ctx.state.requestId}/${i}`,
        model: deps.identity.name,
        version: deps.identity.version,
        label: p.label,
        top: p.top,
        confidence: p.confidence,
        probabilities: p.probabilities,
        image: { sha256, bytes: image.length },
      },
      image,
    );
    return predictionId;
  });
}

export function elapsedMs(startedAt: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startedAt) / 1e4) / 100;
}

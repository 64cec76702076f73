import type Router from '@koa/router';
import { readImageBody } from '../body.js';
import type { AppDeps } from '../context.js';
import { elapsedMs, recordPredictions, requireModel, type ServeContext } from './common.js';

/**
 * `POST /predict`: one image as a multipart upload (field `file`) or a raw image body. Answers
 * `{requestId, predictionId, model, version, label, confidence, probabilities, timeMs}`;
 * `predictionId` is what `POST /feedback` takes.
 */
export function addPredictRoute(router: Router, deps: AppDeps): void {
  router.post('/predict', deps.admission.gate('predict'), async (ctx: ServeContext) => {
    const started = process.hrtime.bigint();
    const model = requireModel(deps);
    const image = await readImageBody(ctx, deps.limits);
    const [prediction] = await model.classifier.classify([image]);
    if (!prediction) throw new Error('classifier returned no prediction');
    const [predictionId] = recordPredictions(deps, ctx, [prediction], [image]);
    ctx.body = {
      requestId: ctx.state.requestId,
      predictionId,
      model: deps.identity.name,
      version: deps.identity.version,
      label: prediction.label,
      confidence: prediction.confidence,
      probabilities: prediction.probabilities,
      timeMs: elapsedMs(started),
    };
  });
}

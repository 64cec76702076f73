import type Router from '@koa/router';
import { HttpError } from '../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { AppDeps } from '../context.js';
import { decodeBase64, parseBody } from '../request-schemas.js';
import { elapsedMs, recordPredictions, requireModel, requireModelName, type ServeContext } from './common.js';

/**
 * KServe v1 data plane: `GET /v1/models/{name}` (model status) and
 * `POST /v1/models/{name}:predict` with `{"instances": [{"image_bytes": {"b64": "..."}}, ...]}`
 * (or `{"b64": "..."}` instances), answering `{"predictions": [{label, confidence, probabilities, predictionId}]}`
 * in instance order.
 */
export function addKServeV1Routes(router: Router, deps: AppDeps): void {
  router.get('/v1/models/:name', (ctx: ServeContext) => {
    ctx.state.route = 'v1_model';
    requireModelName(deps, ctx.params.name);
    ctx.body = { name: deps.identity.name, version: deps.identity.version, ready: deps.readiness.ready };
  });

  // The verb follows a colon in the last segment ("name:predict"), so match the segment whole.
  router.post('/v1/models/:target', deps.admission.gate('v1_predict'), async (ctx: ServeContext) => {
    const target = String(ctx.params.target);
    const colon = target.lastIndexOf(':');
    const verb = colon >= 0 ? target.slice(colon + 1) : '';
    if (verb !== 'predict') throw new HttpError(404, 'RouteNotFound', 'unknown verb; use POST /v1/models/{name}:predict');
    requireModelName(deps, target.slice(0, colon));
    const started = process.hrtime.bigint();
    const model = requireModel(deps);
    const body = parseBody('kserve', await readJsonBody(ctx, deps.limits));
    if (body.instances.length > deps.limits.maxInstances) {
      throw new HttpError(400, 'TooManyInstances', `at most ${deps.limits.maxInstances} instances per request`);
    }
    const images = body.instances.map((inst, i) => decodeBase64('image_bytes' in inst ? inst.image_bytes.b64 : inst.b64, `instances[${i}]`));
    const predictions = await model.classifier.classify(images);
    const ids = recordPredictions(deps, ctx, predictions, images);
    ctx.body = {
      predictions: predictions.map((p, i) => ({ label: p.label, confidence: p.confidence, probabilities: p.probabilities, predictionId: ids[i] })),
      model: deps.identity.name,
      version: deps.identity.version,
      requestId: ctx.state.requestId,
      timeMs: elapsedMs(started),
    };
  });
}

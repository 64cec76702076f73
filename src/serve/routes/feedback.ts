import type Router from '@koa/router';
import { HttpError } from '../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { AppDeps } from '../context.js';
import { parseBody } from '../request-schemas.js';
import { requireModel, type ServeContext } from './common.js';

/**
 * `POST /feedback {"predictionId": "...", "label": "<true class>"}`: the true label of an earlier
 * prediction (known when a person corrects it), on any replica and after any rollout: the signed
 * id says which version made the prediction, and the feedback counts for that version in
 * `kennel_serve_feedback_total` (per true class, correct or wrong), beside the offline figure.
 * `predicted` is the model's top class, also when the answer was `label: null` (`unsure: true`):
 * live accuracy, like the test accuracy it is compared with, judges the top class.
 * With a prediction log it is written there too, and acknowledged only once the log holds it
 * (503 FeedbackLogFull otherwise: nothing kept, retry). 400 for an invalid id or unknown label,
 * 410 for an expired prediction, 409 for a second feedback on the same prediction here.
 */
export function addFeedbackRoute(router: Router, deps: AppDeps): void {
  router.post('/feedback', async (ctx: ServeContext) => {
    ctx.state.route = 'feedback';
    const model = requireModel(deps);
    const body = parseBody('feedback', await readJsonBody(ctx, deps.limits));
    let verdict;
    try {
      verdict = deps.feedback.accept(body, { identity: deps.identity, classes: model.classes, ...(deps.predictionLog ? { sink: deps.predictionLog } : {}) });
    } catch (err) {
      if (err instanceof HttpError && err.reason === 'FeedbackLogFull') ctx.set('Retry-After', '5');
      throw err;
    }
    deps.metrics.observeFeedback(verdict.label, verdict.correct, verdict.claims.version);
    ctx.body = {
      predictionId: body.predictionId,
      model: verdict.claims.model,
      version: verdict.claims.version,
      predicted: verdict.claims.label,
      unsure: verdict.claims.unsure === true,
      label: verdict.label,
      correct: verdict.correct,
      logged: deps.predictionLog !== undefined,
    };
  });
}

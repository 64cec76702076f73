import type Router from '@koa/router';
import { HttpError } from '../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { AppDeps } from '../context.js';
import { parseBody } from '../request-schemas.js';
import { requireModel, type ServeContext } from './common.js';

/**
 * `POST /feedback {"requestId": "...", "label": "<true class>"}`: the true label of an earlier
 * prediction (known when a person corrects it). Counted per true class as correct or wrong in
 * `kennel_serve_feedback_total`, so live accuracy sits next to the offline figure. 404 for an
 * unknown or forgotten request id, 409 for a second feedback on the same prediction.
 */
export function addFeedbackRoute(router: Router, deps: AppDeps): void {
  router.post('/feedback', async (ctx: ServeContext) => {
    ctx.state.route = 'feedback';
    const model = requireModel(deps);
    const body = parseBody('feedback', await readJsonBody(ctx, deps.limits));
    if (!model.classes.includes(body.label)) {
      throw new HttpError(400, 'UnknownLabel', `label must be one of: ${model.classes.join(', ')}`);
    }
    const verdict = deps.feedback.judge(body.requestId, body.label);
    deps.metrics.observeFeedback(body.label, verdict.correct);
    ctx.body = { requestId: body.requestId, predicted: verdict.predicted, label: body.label, correct: verdict.correct };
  });
}

import type Router from '@koa/router';
import { HttpError } from '../../shared/errors.js';
import { codeVersion } from '../../shared/version.js';
import { readJsonBody } from '../body.js';
import type { AppDeps } from '../context.js';
import { decodeBase64, parseBody } from '../request-schemas.js';
import { recordPredictions, requireModel, requireModelName, type ServeContext } from './common.js';

/**
 * Open Inference Protocol (KServe v2) REST: health, server and model metadata, and
 * `POST /v2/models/{name}/infer` whose one input is a BYTES tensor of base64-encoded images
 * (shape [N] or [N, 1]). Outputs: `label` (BYTES [N]; "" when the model is unsure, see
 * --min-confidence), `confidence` (FP32 [N]) and
 * `probabilities` (FP32 [N, classes], classes in the order of the model metadata).
 */
export function addOipV2Routes(router: Router, deps: AppDeps): void {
  const readyBody = (): { ready: boolean } => ({ ready: deps.readiness.ready });

  router.get('/v2/health/live', (ctx: ServeContext) => {
    ctx.state.route = 'v2_live';
    ctx.body = { live: true };
  });
  router.get('/v2/health/ready', (ctx: ServeContext) => {
    ctx.state.route = 'v2_ready';
    ctx.status = deps.readiness.ready ? 200 : 503;
    ctx.body = readyBody();
  });
  router.get('/v2', (ctx: ServeContext) => {
    ctx.state.route = 'v2_server';
    ctx.body = { name: 'kennel', version: codeVersion(), extensions: [] };
  });
  router.get('/v2/models/:name', (ctx: ServeContext) => {
    ctx.state.route = 'v2_model';
    requireModelName(deps, ctx.params.name);
    const model = deps.model.current;
    const n = model?.classes.length ?? -1;
    ctx.body = {
      name: deps.identity.name,
      versions: [deps.identity.version],
      platform: 'tensorflowjs',
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'confidence', datatype: 'FP32', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, n] },
      ],
      ...(model ? { parameters: { classes: model.classes, input_size: model.size } } : {}),
    };
  });
  router.get('/v2/models/:name/ready', (ctx: ServeContext) => {
    ctx.state.route = 'v2_model_ready';
    requireModelName(deps, ctx.params.name);
    ctx.status = deps.readiness.ready ? 200 : 503;
    ctx.body = readyBody();
  });
  router.post('/v2/models/:name/infer', async (ctx: ServeContext) => {
    ctx.state.route = 'v2_infer';
    requireModelName(deps, ctx.params.name);
    const model = requireModel(deps);
    const body = parseBody('oip', await readJsonBody(ctx, deps.limits));
    const input = body.inputs[0];
    if (!input) throw new HttpError(400, 'InvalidRequest', 'one input is required');
    const data = input.data.flat();
    const count = input.shape.reduce((a, b) => a * b, 1);
    if (count !== data.length || (input.shape.length === 2 && input.shape[1] !== 1)) {
      throw new HttpError(400, 'InvalidRequest', `input shape [${input.shape.join(', ')}] does not match ${data.length} data elements (expected [N] or [N, 1])`);
    }
    if (data.length === 0) throw new HttpError(400, 'EmptyBody', 'the input holds no images');
    if (data.length > deps.limits.maxInstances) throw new HttpError(400, 'TooManyInstances', `at most ${deps.limits.maxInstances} images per request`);
    const images = data.map((b64, i) => decodeBase64(b64, `inputs[0].data[${i}]`));
    const predictions = await model.classifier.classify(images);
    recordPredictions(deps, ctx, predictions);
    const n = predictions.length;
    ctx.body = {
      model_name: deps.identity.name,
      model_version: deps.identity.version,
      id: body.id ?? ctx.state.requestId,
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [n], data: predictions.map((p) => p.label ?? '') },
        { name: 'confidence', datatype: 'FP32', shape: [n], data: predictions.map((p) => p.confidence) },
        { name: 'probabilities', datatype: 'FP32', shape: [n, model.classes.length], data: predictions.flatMap((p) => model.classes.map((c) => p.probabilities[c] ?? 0)) },
      ],
    };
  });
}

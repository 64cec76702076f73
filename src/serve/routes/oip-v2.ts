import type Router from '@koa/router';
import { HttpError } from '../../shared/errors.js';
import { codeVersion } from '../../shared/version.js';
import { readJsonBody } from '../body.js';
import type { Prediction } from '../classifier.js';
import type { AppDeps } from '../context.js';
import type { LoadedModel } from '../model-info.js';
import { decodeBase64, parseBody, type OipInferRequest } from '../request-schemas.js';
import { recordPredictions, requireModel, requireModelName, type ServeContext } from './common.js';

/**
 * Open Inference Protocol (KServe v2) REST, every route of its published OpenAPI document
 * (kserve/open-inference-protocol, specification/protocol/open_inference_rest.yaml): health,
 * server metadata (`/v2`, `/v2/`), and per model — with or without `/versions/{version}`, which
 * the protocol makes optional — metadata, readiness and `POST .../infer`. The one version served
 * is the server's `--model-version`; another version is 404 ModelNotFound.
 *
 * Inference takes one BYTES input of base64-encoded images (shape [N] or [N, 1]) and produces the
 * outputs `label` (BYTES [N]; "" when the model is unsure, see
 * --min-confidence), `confidence` (FP32 [N]), `probabilities` (FP32 [N, classes],
 * classes in the order of the model metadata) and `prediction_id` (BYTES [N], what
 * `POST /feedback` takes); a request's `outputs` list selects which of them
 * the answer holds, in the order asked (an unknown name is 400).
 */
export function addOipV2Routes(router: Router, deps: AppDeps): void {
  router.get('/v2/health/live', (ctx: ServeContext) => {
    ctx.state.route = 'v2_live';
    ctx.body = { live: true };
  });
  router.get('/v2/health/ready', (ctx: ServeContext) => {
    ctx.state.route = 'v2_ready';
    ctx.status = deps.readiness.ready ? 200 : 503;
    ctx.body = { ready: deps.readiness.ready };
  });
  for (const path of ['/v2', '/v2/']) {
    router.get(path, (ctx: ServeContext) => {
      ctx.state.route = 'v2_server';
      ctx.body = { name: 'kennel', version: codeVersion(), extensions: [] };
    });
  }
  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    router.get(base, (ctx: ServeContext) => {
      ctx.state.route = 'v2_model';
      requireServed(deps, ctx);
      ctx.body = modelMetadata(deps, deps.model.current);
    });
    router.get(`${base}/ready`, (ctx: ServeContext) => {
      ctx.state.route = 'v2_model_ready';
      requireServed(deps, ctx);
      ctx.status = deps.readiness.ready ? 200 : 503;
      ctx.body = { name: deps.identity.name, ready: deps.readiness.ready };
    });
    router.post(`${base}/infer`, deps.admission.gate('v2_infer'), async (ctx: ServeContext) => {
      requireServed(deps, ctx);
      const model = requireModel(deps);
      const body = parseBody('oip', await readJsonBody(ctx, deps.limits));
      const selected = selectOutputs(body);
      const images = inputImages(body, deps.limits.maxInstances);
      const predictions = await model.classifier.classify(images);
      const ids = recordPredictions(deps, ctx, predictions, images);
      const outputs = outputTensors(model, predictions, ids);
      ctx.body = {
        model_name: deps.identity.name,
        model_version: deps.identity.version,
        id: body.id ?? ctx.state.requestId,
        outputs: selected.map((name) => outputs[name]),
      };
    });
  }
}

/** The outputs a model produces, in the order of its metadata. */
export const OIP_OUTPUTS = ['label', 'confidence', 'probabilities', 'prediction_id'] as const;
type OutputName = (typeof OIP_OUTPUTS)[number];

/** 404 ModelNotFound unless the path names the served model and, when it names one, its version. */
function requireServed(deps: AppDeps, ctx: ServeContext): void {
  requireModelName(deps, ctx.params.name);
  const version = ctx.params.version;
  if (version !== undefined && version !== deps.identity.version) {
    throw new HttpError(404, 'ModelNotFound', `version "${version.slice(0, 100)}" of model "${deps.identity.name}" is not served here; this server serves version "${deps.identity.version}"`);
  }
}

function modelMetadata(deps: AppDeps, model: LoadedModel | undefined): object {
  const n = model?.classes.length ?? -1;
  return {
    name: deps.identity.name,
    versions: [deps.identity.version],
    platform: 'tensorflowjs',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'confidence', datatype: 'FP32', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, n] },
      { name: 'prediction_id', datatype: 'BYTES', shape: [-1] },
    ],
    ...(model ? { parameters: { classes: model.classes, input_size: model.size } } : {}),
  };
}

/** The requested outputs (all when the request names none); 400 for a name the model does not produce. */
function selectOutputs(body: OipInferRequest): OutputName[] {
  if (!body.outputs || body.outputs.length === 0) return [...OIP_OUTPUTS];
  return body.outputs.map(({ name }) => {
    if (!(OIP_OUTPUTS as readonly string[]).includes(name)) {
      throw new HttpError(400, 'InvalidRequest', `unknown output "${name.slice(0, 100)}"; this model produces ${OIP_OUTPUTS.join(', ')}`);
    }
    return name as OutputName;
  });
}

/** The images of the one BYTES input; 400 when its shape does not match its data or holds too many. */
function inputImages(body: OipInferRequest, maxInstances: number): Buffer[] {
  const input = body.inputs[0];
  if (!input) throw new HttpError(400, 'InvalidRequest', 'one input is required');
  const data = input.data.flat();
  const count = input.shape.reduce((a, b) => a * b, 1);
  if (count !== data.length || (input.shape.length === 2 && input.shape[1] !== 1)) {
    throw new HttpError(400, 'InvalidRequest', `input shape [${input.shape.join(', ')}] does not match ${data.length} data elements (expected [N] or [N, 1])`);
  }
  if (data.length === 0) throw new HttpError(400, 'EmptyBody', 'the input holds no images');
  if (data.length > maxInstances) throw new HttpError(400, 'TooManyInstances', `at most ${maxInstances} images per request`);
  return data.map((b64, i) => decodeBase64(b64, `inputs[0].data[${i}]`));
}

function outputTensors(model: LoadedModel, predictions: readonly Prediction[], ids: readonly string[]): Record<OutputName, object> {
  const n = predictions.length;
  return {
    label: { name: 'label', datatype: 'BYTES', shape: [n], data: predictions.map((p) => p.label ?? '') },
    confidence: { name: 'confidence', datatype: 'FP32', shape: [n], data: predictions.map((p) => p.confidence) },
    probabilities: {
      name: 'probabilities',
      datatype: 'FP32',
      shape: [n, model.classes.length],
      data: predictions.flatMap((p) => model.classes.map((c) => p.probabilities[c] ?? 0)),
    },
    prediction_id: { name: 'prediction_id', datatype: 'BYTES', shape: [n], data: ids },
  };
}

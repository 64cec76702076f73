import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'chai';
import sharp from 'sharp';
import { parse } from 'yaml';
import { addOipV2Routes } from '../../../src/serve/routes/oip-v2.js';
import { createTinyArtifact, startTestServer, type TestServer } from './helpers.js';

/**
 * `kennel serve` against the published Open Inference Protocol REST document (vendored unchanged,
 * Apache-2.0: test/fixtures/open-inference-protocol/): the server has a route for every path and
 * method of the document, every Open Inference route it has is one of the document's paths (the
 * `/versions/{version}` segment may be left out, as the protocol allows), and every answer —
 * with and without the version segment, errors included — validates against the document's
 * schemas (ajv). Real server, real tiny model, real HTTP.
 */

const specPath = fileURLToPath(new URL('../../fixtures/open-inference-protocol/open_inference_rest.yaml', import.meta.url));

interface Operation {
  requestBody?: { content: { 'application/json': { schema: { $ref: string } } } };
  responses: Record<string, { content?: { 'application/json': { schema: { $ref: string } } } }>;
}
interface Spec {
  paths: Record<string, Partial<Record<'get' | 'post', Operation>> & { parameters?: unknown }>;
  components: { schemas: Record<string, object> };
}

/** `/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}` and `/v2/models/:name/versions/:version` → `/v2/models/{}/versions/{}`. */
const shape = (path: string) => path.replace(/\$\{[A-Z_]+\}|:[a-z]+/g, '{}').replace(/(.)\/$/, '$1');
const withoutVersion = (path: string) => path.replace('/versions/{}', '');

describe('kennel serve: Open Inference Protocol conformance (the published OpenAPI document)', function () {
  this.timeout(120_000);
  let spec: Spec;
  let ajv: Ajv;
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let image: string;
  let artifactUri: string;
  const validator = (ref: string): ValidateFunction => {
    const v = ajv.getSchema(`oip${ref}`);
    if (!v) throw new Error(`no schema ${ref} in the document`);
    return v;
  };
  const expectValid = (ref: string, body: unknown) => {
    const validate = validator(ref);
    expect(validate(body), `${ref}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`).to.equal(true);
  };

  before(async function () {
    spec = parse(await readFile(specPath, 'utf8')) as Spec;
    // OpenAPI 3.0 schemas are JSON Schema plus keywords such as x-examples: not strict.
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'oip', components: spec.components });
    const art = await createTinyArtifact();
    cleanup = art.cleanup;
    artifactUri = art.uri;
    server = await startTestServer(art.uri, { maxInstances: 8 });
    image = (await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 90, b: 40 } } }).jpeg().toBuffer()).toString('base64');
  });
  after(async () => {
    await server?.stop();
    await cleanup?.();
  });

  const name = () => server.handle.deps.identity.name;
  const version = () => server.handle.deps.identity.version;
  const concrete = (path: string, v = version()) => path.replace('${MODEL_NAME}', name()).replace('${MODEL_VERSION}', v);
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, { method: method.toUpperCase(), ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const inferBody = (extra: object = {}) => ({ id: 'oip-1', inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [image, image] }], ...extra });

  it('has a route for every path and method of the document, and no Open Inference route outside it', function () {
    const router = new Router();
    addOipV2Routes(router, server.handle.deps);
    const ours = new Set(router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${shape(String(layer.path))}`)));
    const documented = Object.entries(spec.paths).flatMap(([path, item]) => (['get', 'post'] as const).filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${shape(path)}`));
    expect(documented.length).to.equal(6);
    for (const route of documented) expect(ours.has(route), `missing ${route}`).to.equal(true);
    const allowed = new Set(documented.flatMap((r) => [r, withoutVersion(r)]));
    for (const route of ours) expect(allowed.has(route), `${route} is not in the document`).to.equal(true);
  });

  it('answers every documented operation, with and without the version segment, as its schemas say', async function () {
    const infer = inferBody();
    expectValid('#/components/schemas/inference_request', infer);
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of ['get', 'post'] as const) {
        const op = item[method];
        if (!op) continue;
        const schema = op.responses['200']?.content?.['application/json'].schema.$ref;
        const variants = path.includes('${MODEL_VERSION}') ? [concrete(path), withoutVersion(shape(path)).replace('{}', name())] : [concrete(path)];
        for (const url of variants) {
          const res = await call(method, url, method === 'post' ? infer : undefined);
          expect(res.status, `${method.toUpperCase()} ${url}`).to.equal(200);
          const body = (await res.json()) as Record<string, unknown>;
          if (schema) expectValid(schema, body);
          if (url.endsWith('/ready')) expect(body, url).to.deep.equal(url.startsWith('/v2/models') ? { name: name(), ready: true } : { ready: true });
          if (url.endsWith('/infer')) expect(body).to.include({ model_name: name(), model_version: version(), id: 'oip-1' });
        }
      }
    }
  });

  it('answers only the outputs a request asks for, in its order', async function () {
    const res = await call('post', `/v2/models/${name()}/infer`, inferBody({ outputs: [{ name: 'probabilities' }, { name: 'label' }] }));
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { outputs: { name: string; shape: number[]; data: unknown[] }[] };
    expectValid('#/components/schemas/inference_response', body);
    expect(body.outputs.map((o) => o.name)).to.deep.equal(['probabilities', 'label']);
    expect(body.outputs[0]?.shape).to.deep.equal([2, 2]);
    expect(body.outputs[1]?.data).to.have.length(2);
  });

  it('an unsure answer (below --min-confidence) stays valid: its label is "" (BYTES holds strings, never null)', async function () {
    // Every prediction of the tiny model is below 1, so every answer is unsure.
    const unsure = await startTestServer(artifactUri, { minConfidence: 1 });
    try {
      const res = await fetch(`${unsure.url}/v2/models/${unsure.handle.deps.identity.name}/infer`, {
        method: 'POST',
        body: JSON.stringify(inferBody()),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { outputs: { name: string; data: unknown[] }[] };
      expectValid('#/components/schemas/inference_response', body);
      expect(body.outputs.find((o) => o.name === 'label')?.data).to.deep.equal(['', '']);
      expect(validator('#/components/schemas/inference_response')({ ...body, outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: [null] }] }), 'null is not valid BYTES data').to.equal(false);
    } finally {
      await unsure.stop();
    }
  });

  it('errors are the document\'s error objects: an unknown output, another version, another model', async function () {
    const cases: { method: 'get' | 'post'; url: string; body?: unknown; status: number; schema: string }[] = [
      { method: 'post', url: `/v2/models/${name()}/infer`, body: inferBody({ outputs: [{ name: 'logits' }] }), status: 400, schema: 'inference_error_response' },
      { method: 'post', url: `/v2/models/${name()}/versions/not-${version()}/infer`, body: inferBody(), status: 404, schema: 'inference_error_response' },
      { method: 'get', url: `/v2/models/${name()}/versions/not-${version()}`, status: 404, schema: 'metadata_model_error_response' },
      { method: 'get', url: `/v2/models/someone-else/versions/${version()}/ready`, status: 404, schema: 'metadata_model_error_response' },
    ];
    for (const c of cases) {
      const res = await call(c.method, c.url, c.body);
      expect(res.status, c.url).to.equal(c.status);
      const body = (await res.json()) as { error: string };
      expectValid(`#/components/schemas/${c.schema}`, body);
      expect(body.error, c.url).to.be.a('string').and.not.equal('');
    }
  });
});

import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import { buildCrds, toStructural, type JsonSchemaProps } from './crd.js';
import { generatedFiles } from './generated-files.js';

const repoRoot = new URL('../../../', import.meta.url);

function* nodes(node: JsonSchemaProps, path: string): Generator<[string, JsonSchemaProps]> {
  yield [path, node];
  for (const [k, v] of Object.entries(node.properties ?? {})) yield* nodes(v, `${path}.${k}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  if (node.additionalProperties) yield* nodes(node.additionalProperties, `${path}.*`);
}

describe('CRDs', () => {
  const crds = [...buildCrds().values()];

  it('are what crds/ and docs/api-reference.md hold (run `npm run gen:crds` after a schema change)', async () => {
    for (const [rel, content] of generatedFiles()) {
      const onDisk = await readFile(new URL(rel, repoRoot), 'utf8').catch(() => '<missing>');
      expect(onDisk, `${rel} is stale: run npm run gen:crds`).to.equal(content);
    }
  });

  it('are structural: every node typed, anyOf only for int-or-string, no preserve-unknown-fields', () => {
    for (const crd of crds) {
      const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
      expect(root).to.not.equal(undefined);
      for (const [path, node] of nodes(root as JsonSchemaProps, crd.spec.names.kind)) {
        if (node['x-kubernetes-int-or-string']) {
          expect(node.anyOf, path).to.deep.equal([{ type: 'integer' }, { type: 'string' }]);
        } else {
          expect(node.type, `${path} has no type`).to.be.a('string');
          expect(node.anyOf, path).to.equal(undefined);
        }
        expect(node['x-kubernetes-preserve-unknown-fields'], path).to.equal(undefined);
      }
    }
  });

  it('describe every field of spec and status', () => {
    for (const crd of crds) {
      const root = crd.spec.versions[0]?.schema.openAPIV3Schema as JsonSchemaProps;
      for (const part of ['spec', 'status'] as const) {
        for (const [path, node] of nodes(root.properties?.[part] as JsonSchemaProps, `${crd.spec.names.kind}.${part}`)) {
          expect(node.description, `${path} has no description`).to.be.a('string').and.not.equal('');
        }
      }
    }
  });

  it('key conditions by type, have a status subresource, the kennel category and unclashing short names', () => {
    const taken = new Set(['isvc', 'inferenceservice', 'ksvc', 'rev', 'route', 'config', 'kservice']);
    for (const crd of crds) {
      const version = crd.spec.versions[0];
      const status = version?.schema.openAPIV3Schema.properties?.status;
      const conditions = status?.properties?.conditions;
      expect(conditions?.['x-kubernetes-list-type']).to.equal('map');
      expect(conditions?.['x-kubernetes-list-map-keys']).to.deep.equal(['type']);
      expect(version?.subresources).to.deep.equal({ status: {} });
      expect(crd.spec.names.categories).to.deep.equal(['kennel']);
      for (const s of crd.spec.names.shortNames) expect(taken.has(s), s).to.equal(false);
      expect(version?.additionalPrinterColumns.map((c) => c.name)).to.include.members(['Phase', 'Age']);
    }
  });

  it('turn TypeBox records, literal unions and exclusive bounds into structural forms', () => {
    const schema = Type.Object(
      {
        m: Type.Record(Type.String(), Type.Integer({ description: 'v' }), { description: 'map' }),
        e: Type.Union([Type.Literal('a'), Type.Literal('b')], { description: 'enum' }),
        x: Type.Number({ description: 'x', exclusiveMinimum: 0 }),
      },
      { description: 'root' },
    );
    expect(toStructural(schema)).to.deep.equal({
      description: 'root',
      type: 'object',
      properties: {
        m: { description: 'map', type: 'object', additionalProperties: { description: 'v', type: 'integer' } },
        e: { description: 'enum', type: 'string', enum: ['a', 'b'] },
        x: { description: 'x', type: 'number', minimum: 0, exclusiveMinimum: true },
      },
      required: ['m', 'e', 'x'],
    });
  });

  it('refuse schemas with no structural equivalent', () => {
    expect(() => toStructural(Type.Union([Type.String(), Type.Object({})]))).to.throw(/only unions/);
    expect(() => toStructural(Type.Unknown())).to.throw(/needs a type/);
    expect(() => toStructural(Type.Object({ a: Type.String({ examples: ['x'] }) }))).to.throw(/examples/);
  });
});

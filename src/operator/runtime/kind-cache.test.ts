import { expect } from 'chai';
import { exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import { parseModelVersion } from '../../shared/api/parse.js';
import type { ModelVersion, ModelVersionStatus } from '../../shared/api/model-version.js';
import { Resources } from '../kube/resources.js';
import type { Informer } from './informer.js';
import { createKindCache, type Stored } from './kind-cache.js';

/** The informer's read side over a fixed list of objects (what list+watch would have cached). */
function fixedInformer(objects: Stored<ModelVersionStatus>[]): Informer<Stored<ModelVersionStatus>> {
  return {
    resource: Resources.modelVersion,
    get: (namespace, name) => objects.find((o) => o.metadata?.namespace === namespace && o.metadata.name === name),
    list: (namespace) => objects.filter((o) => namespace === undefined || o.metadata?.namespace === namespace),
    hasSynced: () => true,
    onChange: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
}

/** As the API server sends it: JSON. */
const stored = (mv: ModelVersion): Stored<ModelVersionStatus> => JSON.parse(JSON.stringify(mv)) as Stored<ModelVersionStatus>;

describe('kind cache', () => {
  it('parses each stored object once and hands out the same frozen value', () => {
    let parses = 0;
    const good = stored(exampleModelVersion('a-v1', 1));
    const cache = createKindCache<ModelVersion>(fixedInformer([good]), (v) => {
      parses++;
      return parseModelVersion(v);
    });
    const first = cache.parse(good);
    const second = cache.parse(good);
    expect(parses).to.equal(1);
    expect(first).to.equal(second);
    expect(first.ok && Object.isFrozen(first.value.spec)).to.equal(true);
    expect(cache.valid('default')[0]).to.equal(first.ok ? first.value : undefined);
    expect(parses).to.equal(1);
  });

  it('leaves objects that do not parse out of valid(), and reports why through parse()', () => {
    const good = stored(exampleModelVersion('a-v1', 1));
    const bad = stored(exampleModelVersion('a-v2', 2));
    (bad.spec as { artifact: { uri: string } }).artifact.uri = 's3://elsewhere/model';
    const other = stored({ ...exampleModelVersion('b-v1', 1), metadata: { name: 'b-v1', namespace: 'other' } });
    const cache = createKindCache<ModelVersion>(fixedInformer([good, bad, other]), parseModelVersion);
    expect(cache.valid('default').map((m) => m.metadata.name)).to.deep.equal(['a-v1']);
    expect(cache.valid().map((m) => m.metadata.name)).to.deep.equal(['a-v1', 'b-v1']);
    const result = cache.parse(bad);
    expect(result.ok).to.equal(false);
    expect(result.ok ? [] : result.errors).to.deep.equal(['/spec/artifact/uri: artifact.uri must start with gs:// or file://']);
    expect(cache.get('default', 'a-v2')).to.equal(bad);
  });
});

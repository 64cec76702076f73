import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Where pretrained weights came from: recorded in every model built on them. */
export interface WeightsProvenance {
  readonly package: string;
  readonly version: string;
  readonly license: string;
  readonly model: string;
}

export const NSFWJS_PACKAGE = 'nsfwjs';

/**
 * Loads one of the Keras (layers) models that the `nsfwjs` npm package ships inside itself, as
 * base64 JavaScript modules under dist/models/<model>/: the topology and the decoded (de-quantised)
 * weights. Nothing is downloaded; the package is an ordinary dependency installed by `npm ci`.
 */
export function loadNsfwjsLayersModel(model: string, shards: number): { topology: unknown; weights: tf.NamedTensorMap; provenance: WeightsProvenance } {
  const root = packageRoot(NSFWJS_PACKAGE);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; license: string };
  const dir = path.join(root, 'dist', 'models', model);
  const require = createRequire(import.meta.url);
  const json = require(path.join(dir, 'model.min.js')) as { modelTopology: unknown; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  const shardBuffers: Buffer[] = [];
  for (let i = 1; i <= shards; i++) shardBuffers.push(Buffer.from(require(path.join(dir, `group1-shard${i}of${shards}.min.js`)) as string, 'base64'));
  const all = Buffer.concat(shardBuffers);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const weights = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), specs);
  return { topology: json.modelTopology, weights, provenance: { package: NSFWJS_PACKAGE, version: pkg.version, license: pkg.license, model } };
}

/** The installed package's directory (its `exports` map hides package.json, so walk up from the entry point). */
function packageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // no package.json here: keep walking up
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the root of the installed "${name}" package`);
    dir = up;
  }
}

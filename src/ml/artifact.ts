import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { ReasonError } from '../shared/errors.js';
import { joinUri, type Storage } from '../shared/storage/index.js';
import { parseModelMetadata, type ModelMetadata, type ModelMetadataInput } from './metadata.js';

export const ARTIFACT_FILES = { model: 'model.json', weights: 'weights.bin', metadata: 'metadata.json' } as const;

export const ArtifactErrorReasons = ['invalid-metadata', 'invalid-model', 'digest-mismatch'] as const;
export type ArtifactErrorReason = (typeof ArtifactErrorReasons)[number];

/** A model artifact that exists but cannot be trusted or understood. */
export class ArtifactError extends ReasonError<ArtifactErrorReason> {
  readonly uri: string;
  constructor(reason: ArtifactErrorReason, uri: string, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.uri = uri;
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function joinWeights(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

function toArrayBuffer(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/**
 * Saves `model` under the prefix `uri` in the contract's layout: `model.json` + `weights.bin`
 * (TF.js layers format) and `metadata.json` with the sha256 of the weights. metadata.json is
 * written last, so its presence marks a complete artifact. Returns the metadata as written.
 */
export async function saveArtifact(uri: string, model: tf.LayersModel, metadata: ModelMetadataInput, storage: Storage): Promise<ModelMetadata> {
  let written: ModelMetadata | undefined;
  const handler: tf.io.IOHandler = {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology === undefined) {
        throw new Error('saveArtifact supports TF.js layers models only');
      }
      const weights = joinWeights(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [ARTIFACT_FILES.weights], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      };
      const full = parseModelMetadata(
        { schemaVersion: 1, format: 'tfjs-layers', ...metadata, sha256: sha256Hex(weights), weightsBytes: weights.byteLength },
        'metadata for saveArtifact',
      );
      await storage.write(joinUri(uri, ARTIFACT_FILES.weights), Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength), {
        contentType: 'application/octet-stream',
      });
      await storage.write(joinUri(uri, ARTIFACT_FILES.model), JSON.stringify(modelJson), { contentType: 'application/json' });
      await storage.write(joinUri(uri, ARTIFACT_FILES.metadata), `${JSON.stringify(full, null, 2)}\n`, { contentType: 'application/json' });
      written = full;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
  await model.save(handler, { includeOptimizer: false });
  if (!written) throw new Error('model.save did not call the artifact handler');
  return written;
}

/** Reads and validates metadata.json of the artifact at `uri`. */
export async function loadArtifactMetadata(uri: string, storage: Storage): Promise<ModelMetadata> {
  const metaUri = joinUri(uri, ARTIFACT_FILES.metadata);
  const raw = await storage.read(metaUri);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ArtifactError('invalid-metadata', uri, `${metaUri} is not JSON`, { cause: err });
  }
  try {
    return parseModelMetadata(json, metaUri);
  } catch (err) {
    throw new ArtifactError('invalid-metadata', uri, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * Loads the artifact at `uri`: metadata.json, then model.json and its weight files, whose
 * sha256 must equal the one recorded in metadata.json (a mismatch throws ArtifactError
 * 'digest-mismatch' before any tensor is built). Missing files surface as StorageError
 * 'NotFound'. The caller owns the returned model (dispose it).
 */
export async function loadArtifact(uri: string, storage: Storage): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  const metadata = await loadArtifactMetadata(uri, storage);
  const handler: tf.io.IOHandler = {
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelUri = joinUri(uri, ARTIFACT_FILES.model);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse((await storage.read(modelUri)).toString('utf8')) as tf.io.ModelJSON;
      } catch (err) {
        if (err instanceof SyntaxError) throw new ArtifactError('invalid-model', uri, `${modelUri} is not JSON`, { cause: err });
        throw err;
      }
      if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
        throw new ArtifactError('invalid-model', uri, `${modelUri} is not a TF.js layers model (no modelTopology/weightsManifest)`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const paths = manifest.flatMap((group) => group.paths);
        for (const p of paths) {
          if (p.startsWith('/') || p.split('/').includes('..') || /^[a-z]+:/i.test(p)) {
            throw new ArtifactError('invalid-model', uri, `weight path ${JSON.stringify(p)} escapes the artifact`);
          }
        }
        const parts = await Promise.all(paths.map((p) => storage.read(joinUri(uri, p))));
        const weights = Buffer.concat(parts);
        const digest = sha256Hex(weights);
        if (digest !== metadata.sha256) {
          throw new ArtifactError(
            'digest-mismatch',
            uri,
            `weights of ${uri} have sha256 ${digest}, but metadata.json records ${metadata.sha256}: the artifact is corrupt or was modified`,
          );
        }
        const specs = manifest.flatMap((group) => group.weights);
        return [specs, toArrayBuffer(weights)];
      });
    },
  };
  const model = await tf.loadLayersModel(handler);
  return { model, metadata };
}

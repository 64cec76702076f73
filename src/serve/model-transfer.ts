import * as tf from '@tensorflow/tfjs';

/**
 * A layers model as plain, structured-cloneable data (topology, weight specs and one weights
 * buffer), so a model loaded and verified once can be handed to worker threads.
 */
export interface ModelPayload {
  readonly modelTopology: object;
  readonly weightSpecs: tf.io.WeightsManifestEntry[];
  readonly weightData: ArrayBuffer;
}

/** Serialises a loaded model in memory (no I/O). */
export async function modelToPayload(model: tf.LayersModel): Promise<ModelPayload> {
  let payload: ModelPayload | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const { modelTopology, weightSpecs, weightData } = artifacts;
      if (!modelTopology || modelTopology instanceof ArrayBuffer || !weightSpecs || !weightData) {
        throw new Error('model did not serialise to a layers topology with weights');
      }
      const data = Array.isArray(weightData) ? concat(weightData) : weightData;
      payload = { modelTopology, weightSpecs, weightData: data };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!payload) throw new Error('model did not serialise');
  return payload;
}

/** Rebuilds the model from a payload on this thread's backend. */
export function payloadToModel(payload: ModelPayload): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: payload.modelTopology, weightSpecs: payload.weightSpecs, weightData: payload.weightData }));
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

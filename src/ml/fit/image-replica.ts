import type { BackendPreference } from '../backend/select.js';
import type { ModelSpec } from '../model-factory.js';
import { seededRandom } from '../../shared/random.js';
import { gatherBatch } from './augment.js';
import { Replica } from './replica.js';
import type { ReplicaState, StepRequest } from './replica-host.js';
import type { Augmentation } from './types.js';

/** A from-scratch model trained on decoded images (shared memory), augmented per step. */
export interface ImageReplicaInit {
  spec: ModelSpec;
  learningRate: number;
  backend: BackendPreference;
  augmentation: Augmentation;
  imageSize: number;
  trainPixels: Uint8Array;
  trainLabels: Int32Array;
  valPixels: Uint8Array;
  valLabels: Int32Array;
}

export async function createReplicaState(init: ImageReplicaInit): Promise<ReplicaState> {
  const replica = await Replica.create({ spec: init.spec, learningRate: init.learningRate, backend: init.backend });
  const { trainPixels, trainLabels, imageSize, augmentation } = init;
  const frame = imageSize * imageSize * 3;
  return {
    backend: replica.backend,
    trainable: replica.model.weights.map((w) => w.trainable),
    step(req: StepRequest) {
      if (req.apply) replica.apply(req.apply, req.learningRate);
      const pixels = gatherBatch(trainPixels, imageSize, req.indices, augmentation, seededRandom(req.seed));
      const labels = Array.from(req.indices, (i) => trainLabels[i] as number);
      return replica.step(pixels, labels, req.indices.length, req.seed);
    },
    apply: (grads, learningRate) => replica.apply(grads, learningRate),
    evaluate: (start, end) => replica.evaluate(init.valPixels.subarray(start * frame, end * frame), init.valLabels.subarray(start, end), end - start),
    getWeights: () => replica.getWeights(),
    setWeights: (weights) => replica.setWeights(weights),
    dispose: () => replica.dispose(),
  };
}

import * as tf from '@tensorflow/tfjs';
import type { PretrainedArchitecture } from '../architectures.js';
import { loadBackbone } from './backbone.js';
import { assemble } from './transfer-fit.js';

/**
 * The untrained classifier of a pretrained architecture: the backbone's weights and a new head
 * (seeded Glorot-like kernel, zero bias). Input [N, S, S, 3] in [0, 1], output softmax over
 * `numClasses`. What training starts from, and what benchmarks serve when they need the
 * architecture's shape and cost but not its accuracy.
 */
export function createPretrainedModel(spec: { architecture: PretrainedArchitecture; imageSize: number; numClasses: number; seed?: number }): tf.LayersModel {
  const backbone = loadBackbone(spec.architecture);
  const { multiple } = { multiple: backbone.spec.sizeMultiple };
  if (!Number.isInteger(spec.imageSize) || spec.imageSize < multiple || spec.imageSize % multiple !== 0) {
    throw new RangeError(`imageSize must be a multiple of ${multiple} for ${spec.architecture}, got ${spec.imageSize}`);
  }
  const kernel = tf.tidy(() => tf.randomNormal([backbone.features, spec.numClasses], 0, Math.sqrt(1 / backbone.features), 'float32', spec.seed ?? 42).dataSync() as Float32Array);
  return assemble(backbone.graph, backbone.graph.nodes, { kernel, bias: new Float32Array(spec.numClasses) }, 1, spec.imageSize, spec.numClasses);
}

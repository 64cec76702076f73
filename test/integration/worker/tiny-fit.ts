import * as tf from '@tensorflow/tfjs';
import type { FitFunction } from '../../../src/worker/train/default-fit.js';
import { fitWithLayers } from './fit-with-layers.js';

/**
 * The training loop of `kennel train` around a deliberately tiny model (one strided conv,
 * global pooling, softmax) so that integration tests train in seconds on the CPU backend.
 * Everything else (data, artifact, evaluation, report) is the real pipeline.
 */
export const tinyFit: FitFunction = (req) =>
  fitWithLayers(req, {
    createModel: (spec) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [spec.imageSize, spec.imageSize, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: spec.numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      }),
  });

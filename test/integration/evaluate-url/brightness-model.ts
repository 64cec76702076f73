import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { saveArtifact } from '../../../src/ml/artifact.js';
import { createFileStorage } from '../../../src/shared/storage/index.js';

/**
 * Saves, under `dir`, a real TF.js artifact whose answer is known in advance: global average
 * pooling then a dense softmax with hand-set weights, so a dark image is `cat` and a bright one
 * `dog` (sum of the three channel means below / above 1.5 on the [0, 1] scale). Returns its
 * file:// URI (`.../pets/v1`, so the server names it model "pets", version "v1").
 */
export async function saveBrightnessModel(dir: string, size = 16): Promise<string> {
  const model = tf.sequential();
  model.add(tf.layers.globalAveragePooling2d({ inputShape: [size, size, 3] }));
  const dense = tf.layers.dense({ units: 2, activation: 'softmax' });
  model.add(dense);
  dense.setWeights([tf.tensor2d([[-10, 10], [-10, 10], [-10, 10]]), tf.tensor1d([15, -15])]);
  const uri = `${pathToFileURL(dir).href}/pets/v1`;
  await saveArtifact(
    uri,
    model,
    {
      classes: ['cat', 'dog'],
      inputShape: [size, size, 3],
      preprocessing: { resize: 'fill', size, scale: 1 / 255 },
      dataset: { uri: 'file:///nowhere', digest: 'c'.repeat(64) },
      hyperparameters: {},
      architecture: 'brightness-test',
      backend: tf.getBackend() ?? 'cpu',
      codeVersion: '0.0.0-test',
      createdAt: new Date(0).toISOString(),
    },
    createFileStorage(),
  );
  model.dispose();
  return uri;
}

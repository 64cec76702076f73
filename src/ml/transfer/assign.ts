import * as tf from '@tensorflow/tfjs';

/** Writes float values into variables, in order (each `values[i]` holds `variables[i].size` floats); leaves no tensor behind. */
export function assignAll(variables: readonly tf.Variable[], values: readonly Float32Array[]): void {
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(values[i] as Float32Array, v.shape, 'float32'))));
}

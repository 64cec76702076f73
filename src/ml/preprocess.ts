import * as tf from '@tensorflow/tfjs';

/**
 * Turns `n` decoded RGB images (HWC, `size`×`size`, bytes concatenated) into the model's input:
 * a float32 tensor [n, size, size, 3] scaled to [0, 1]. This is the one preprocessing step shared
 * by training, evaluation and serving, so a model sees the same numbers everywhere.
 * The caller owns (and disposes) the returned tensor.
 */
export function imagesToTensor(pixels: Uint8Array, n: number, size: number): tf.Tensor4D {
  const expected = n * size * size * 3;
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(size) || size <= 0) {
    throw new RangeError(`imagesToTensor: bad count ${n} or size ${size}`);
  }
  if (pixels.length !== expected) {
    throw new RangeError(`imagesToTensor: expected ${expected} bytes for ${n} images of ${size}x${size}x3, got ${pixels.length}`);
  }
  const floats = new Float32Array(expected);
  const scale = 1 / 255;
  for (let i = 0; i < expected; i++) floats[i] = (pixels[i] as number) * scale;
  return tf.tensor4d(floats, [n, size, size, 3], 'float32');
}

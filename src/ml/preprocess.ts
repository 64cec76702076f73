import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

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
  const shape: [number, number, number, number] = [n, size, size, 3];
  // On the wasm backend, scale straight into a tensor allocated on its heap: no float copy of the
  // batch in JavaScript (4 bytes a pixel channel, ~0.3 MB an image at 160 px) that the backend
  // would then copy again, and that, as garbage outside V8's heap, set off a full collection
  // about every half second in each serving worker.
  const wasm = tf.getBackend() === 'wasm' && expected > 0 ? (tf.backend() as BackendWasm) : undefined;
  const onHeap = wasm?.makeOutput(shape, 'float32');
  const floats = wasm && onHeap ? (wasm.typedArrayFromHeap(onHeap) as Float32Array) : new Float32Array(expected);
  const scale = 1 / 255;
  for (let i = 0; i < expected; i++) floats[i] = (pixels[i] as number) * scale;
  return onHeap ? (tf.engine().makeTensorFromTensorInfo(onHeap) as tf.Tensor4D) : tf.tensor4d(floats, shape, 'float32');
}

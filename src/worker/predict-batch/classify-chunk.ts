import type { BatchResultLine } from '../../shared/api/batch-report.js';
import { isStorageError, type Storage, type StorageEntry } from '../../shared/storage/index.js';
import { decodeImagePixels, ImageDecodeError } from '../../ml/image.js';
import { mapLimit } from '../dataset/map-limit.js';
import type { BatchClassifier } from './classifier.js';
import { resultLine } from './result-line.js';

/**
 * Classifies one chunk of a shard: reads and decodes its images (at most `concurrency` at once)
 * with the model's own preprocessing, predicts the decodable ones in one batch, and returns one
 * line per image in the chunk's order. An image that is empty, not an image, corrupt or too large,
 * or that vanished between listing and reading, becomes an error line; any other storage failure
 * is thrown (it is about the bucket, not the image).
 */
export async function classifyChunk(files: readonly StorageEntry[], o: { storage: Storage; classifier: BatchClassifier; concurrency: number }): Promise<BatchResultLine[]> {
  const { classifier } = o;
  const frame = classifier.size * classifier.size * 3;
  const decoded = await mapLimit(files, o.concurrency, async (file): Promise<Uint8Array | BatchResultLine> => {
    try {
      const bytes = await o.storage.read(file.uri);
      return await decodeImagePixels(bytes, { size: classifier.size, resize: classifier.resize });
    } catch (err) {
      if (err instanceof ImageDecodeError) return { path: file.name, error: { reason: err.reason, message: err.message } };
      if (isStorageError(err, 'NotFound')) return { path: file.name, error: { reason: 'vanished', message: 'listed but gone when read' } };
      throw err;
    }
  });
  const images = decoded.filter((d): d is Uint8Array => d instanceof Uint8Array);
  const pixels = new Uint8Array(images.length * frame);
  images.forEach((img, i) => pixels.set(img, i * frame));
  const probs = images.length > 0 ? await classifier.predict(pixels, images.length) : new Float32Array(0);
  let row = 0;
  return decoded.map((d, i) => (d instanceof Uint8Array ? resultLine((files[i] as StorageEntry).name, probs, row++, classifier.classes) : d));
}

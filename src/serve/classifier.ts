import { MicroBatcher } from './batcher.js';
import type { Predictor } from './predictor.js';

/**
 * One image's answer: the most probable class (`top`), its probability, every class's
 * probability, and `label`: `top`, or null when the model is unsure (confidence below the
 * server's minimum).
 */
export interface Prediction {
  readonly label: string | null;
  readonly top: string;
  readonly confidence: number;
  readonly probabilities: Readonly<Record<string, number>>;
}

/** Turns encoded image bytes into size×size×3 RGB bytes; throws ImageDecodeError on bad input. */
export type DecodeFn = (image: Buffer) => Promise<Uint8Array>;

export interface ClassifierOptions {
  readonly predictor: Predictor;
  readonly decode: DecodeFn;
  /** Class names in the model's output order. */
  readonly classes: readonly string[];
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  /** Images allowed to wait for the model before requests are shed with 503. */
  readonly maxQueue: number;
  /** Batches run at once; match the predictor's worker count. */
  readonly concurrency?: number;
  /** Top-class probability below which `label` is null (default 0: never). */
  readonly minConfidence?: number;
  readonly onBatch?: (size: number) => void;
}

/**
 * Decodes images (concurrently, on sharp's thread pool) and runs them through the model in
 * micro-batches: concurrent requests share a model invocation, and as many batches run at once
 * as the predictor has workers.
 */
export class Classifier {
  readonly classes: readonly string[];
  readonly #decode: DecodeFn;
  readonly #minConfidence: number;
  readonly #batcher: MicroBatcher<Uint8Array, Float32Array>;

  constructor(options: ClassifierOptions) {
    const { predictor, classes } = options;
    if (classes.length !== predictor.numClasses) {
      throw new Error(`model has ${predictor.numClasses} outputs but metadata lists ${classes.length} classes`);
    }
    this.classes = classes;
    this.#decode = options.decode;
    this.#minConfidence = options.minConfidence ?? 0;
    const rowBytes = predictor.size * predictor.size * 3;
    const c = predictor.numClasses;
    this.#batcher = new MicroBatcher<Uint8Array, Float32Array>({
      maxBatchSize: options.maxBatchSize,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      concurrency: options.concurrency ?? 1,
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      run: async (images) => {
        const batch = new Uint8Array(images.length * rowBytes);
        images.forEach((px, i) => batch.set(px, i * rowBytes));
        const probs = await predictor.predict(batch, images.length);
        return images.map((_, i) => probs.slice(i * c, (i + 1) * c));
      },
    });
  }

  /** Classifies every image; rejects (with the first decode error) if any image is unusable. */
  async classify(images: readonly Buffer[]): Promise<Prediction[]> {
    const pixels = await Promise.all(images.map((img) => this.#decode(img)));
    const rows = await Promise.all(pixels.map((px) => this.#batcher.submit(px)));
    return rows.map((row) => this.#toPrediction(row));
  }

  /** Resolves when no image is waiting for or running through the model. */
  idle(): Promise<void> {
    return this.#batcher.idle();
  }

  #toPrediction(row: Float32Array): Prediction {
    let best = 0;
    for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
    const probabilities: Record<string, number> = {};
    this.classes.forEach((name, i) => (probabilities[name] = round(row[i] as number)));
    const top = this.classes[best] as string;
    const confidence = round(row[best] as number);
    return { label: confidence < this.#minConfidence ? null : top, top, confidence, probabilities };
  }
}

function round(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}

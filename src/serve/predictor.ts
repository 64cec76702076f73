/**
 * What the HTTP layer needs from a model: probabilities for a batch of decoded images. The
 * server never touches tensors itself; a Predictor owns the model, its backend and every tensor
 * it creates, so that the HTTP layer, the batcher and their tests do not depend on where or how
 * the model runs (in this thread, or in a pool of worker threads).
 */
export interface Predictor {
  /** Input side length in pixels; every image handed to predict is size×size×3 RGB bytes. */
  readonly size: number;
  /** Number of output classes (length of one probability row). */
  readonly numClasses: number;
  /**
   * Runs the model on `n` images, concatenated HWC RGB bytes (n·size·size·3), and resolves to
   * their softmax rows concatenated (n·numClasses), in input order.
   */
  predict(pixels: Uint8Array, n: number): Promise<Float32Array>;
  /** Live tensor counts, summed over every place the model runs (for tests and a gauge). */
  stats(): Promise<PredictorStats>;
  /** Releases the model, its tensors and any threads. Idempotent. */
  close(): Promise<void>;
}

export interface PredictorStats {
  readonly numTensors: number;
  readonly numBytes: number;
  /** TF.js backend name in use, e.g. 'wasm'. */
  readonly backend: string;
}

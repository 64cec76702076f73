import { isPretrainedArchitecture } from '../../ml/architectures.js';
import type { fit } from '../../ml/fit/fit.js';

/** The training loop `kennel train` runs: src/ml/fit's `fit`, or a stand-in of its shape in tests. */
export type FitFunction = typeof fit;

/**
 * The production training loop, loaded lazily (both start worker threads): the pretrained recipe
 * (src/ml/transfer) for a pretrained architecture, src/ml/fit's data-parallel `fit` from scratch.
 */
export const defaultFit: FitFunction = async (options) =>
  isPretrainedArchitecture(options.spec.architecture) ? (await import('../../ml/transfer/transfer-fit.js')).transferFit(options) : (await import('../../ml/fit/fit.js')).fit(options);

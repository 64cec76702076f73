import type { fit } from '../../ml/fit/fit.js';

/** The training loop `kennel train` runs: src/ml/fit's `fit`, or a stand-in of its shape in tests. */
export type FitFunction = typeof fit;

/** The production training loop: src/ml/fit's data-parallel `fit`, loaded lazily (it starts worker threads). */
export const defaultFit: FitFunction = async (options) => (await import('../../ml/fit/fit.js')).fit(options);

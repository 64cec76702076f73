import type { FitFunction } from './fit-types.js';

/**
 * The production training loop: src/ml/fit's data-parallel `fit` on Kennel's backends (loaded
 * lazily, it starts worker threads). "No early stopping" becomes a patience longer than the run.
 */
export const defaultFit: FitFunction = async (req) => {
  if (!req.validation || req.validation.count === 0) throw new RangeError('training needs a non-empty validation split');
  const { fit } = await import('../../ml/fit/fit.js');
  return fit({
    spec: req.spec,
    train: req.train,
    validation: req.validation,
    epochs: req.epochs,
    batchSize: req.batchSize,
    learningRate: req.learningRate,
    augmentation: req.augmentation,
    earlyStopping: req.earlyStopping ?? { patience: req.epochs + 1 },
    seed: req.seed,
    ...(req.backend ? { backend: req.backend } : {}),
    ...(req.onEpoch ? { onEpoch: req.onEpoch } : {}),
    ...(req.onBatch ? { onBatch: req.onBatch } : {}),
  });
};

/**
 * Entry point of one model worker thread: selects its own TF.js backend, rebuilds the model from
 * the payload it starts with, warms it up, then answers predict and stats calls. Runs only inside
 * a worker thread (see worker-pool-predictor.ts); importing it elsewhere does nothing.
 */
import { selectBackend } from '../ml/backend/select.js';
import { transferring } from '../shared/thread-rpc/protocol.js';
import { serveThread } from '../shared/thread-rpc/serve-thread.js';
import { createInProcessPredictor } from './in-process-predictor.js';
import { payloadToModel } from './model-transfer.js';
import type { ModelWorkerCalls, ModelWorkerInfo, ModelWorkerInit } from './worker-protocol.js';

serveThread(async (init: ModelWorkerInit) => {
  const backend = await selectBackend({ preference: init.backend, purpose: 'inference' });
  const model = await payloadToModel(init.payload);
  const predictor = createInProcessPredictor({ model, size: init.size, numClasses: init.numClasses });
  // Warm-up: the first call compiles kernels and allocates; do it before taking traffic.
  await predictor.predict(new Uint8Array(init.size * init.size * 3), 1);
  const info: ModelWorkerInfo = { backend: backend.name, ...(backend.kernels ? { kernels: backend.kernels } : {}) };
  const handlers: ModelWorkerCalls = {
    async predict({ pixels, n }) {
      // A private copy: the backend may still own the array it returned.
      const probabilities = (await predictor.predict(pixels, n)).slice();
      return transferring(probabilities, [probabilities.buffer as ArrayBuffer]);
    },
    stats: () => predictor.stats(),
  };
  return { info, handlers };
});

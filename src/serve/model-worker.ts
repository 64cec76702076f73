/**
 * Entry point of one model worker thread: selects its own TF.js backend, rebuilds the model from
 * the payload in workerData, warms it up, then answers predict and stats messages one at a time.
 * Runs only inside a worker thread (see worker-pool-predictor.ts); importing it elsewhere does
 * nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../ml/backend/select.js';
import { createInProcessPredictor } from './in-process-predictor.js';
import { payloadToModel } from './model-transfer.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';
import type { Predictor } from './predictor.js';

async function main(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  let predictor: Predictor;
  try {
    const backend = await selectBackend({ preference: init.backend });
    const model = await payloadToModel(init.payload);
    predictor = createInProcessPredictor({ model, size: init.size, numClasses: init.numClasses });
    // Warm-up: the first call compiles kernels and allocates; do it before taking traffic.
    await predictor.predict(new Uint8Array(init.size * init.size * 3), 1);
    send({ type: 'ready', backend: backend.name });
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on('message', (msg: ToWorker) => {
    void handle(msg);
  });
  async function handle(msg: ToWorker): Promise<void> {
    try {
      if (msg.type === 'predict') {
        // A private copy: the backend may still own the array it returned.
        const probabilities = (await predictor.predict(msg.pixels, msg.n)).slice();
        send({ type: 'result', id: msg.id, probabilities }, [probabilities.buffer as ArrayBuffer]);
      } else {
        const s = await predictor.stats();
        send({ type: 'stats', id: msg.id, ...s });
      }
    } catch (err) {
      send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
}

if (!isMainThread && parentPort) void main(parentPort, workerData as WorkerInit);

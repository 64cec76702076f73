import type { Logger } from '../shared/logger.js';
import { transferring } from '../shared/thread-rpc/protocol.js';
import { startThread, threadModule, type Thread } from '../shared/thread-rpc/start-thread.js';
import type { BackendPreference } from '../ml/backend/select.js';
import type { ModelPayload } from './model-transfer.js';
import type { Predictor, PredictorStats } from './predictor.js';
import type { ModelWorkerCalls, ModelWorkerInfo, ModelWorkerInit } from './worker-protocol.js';

export interface WorkerPoolOptions {
  readonly payload: ModelPayload;
  readonly size: number;
  readonly numClasses: number;
  /** Number of worker threads, each with its own backend and copy of the model. */
  readonly workers: number;
  readonly backend: BackendPreference;
  readonly logger: Logger;
  /** How long one worker may take to load and warm up before start-up fails, ms. */
  readonly startTimeoutMs?: number;
}

type ModelWorker = Thread<ModelWorkerCalls, ModelWorkerInfo>;

/**
 * Runs the model in a pool of worker threads, so that inference uses every core while the main
 * thread keeps parsing requests and decoding images (sharp decodes on the libuv pool). Each
 * call goes to the least busy worker. A worker that dies fails its in-flight calls and is
 * replaced. Resolves once every worker has loaded the model and passed a warm-up prediction.
 */
export async function createWorkerPoolPredictor(options: WorkerPoolOptions): Promise<Predictor> {
  const { size, numClasses, logger } = options;
  const init: ModelWorkerInit = { payload: options.payload, size, numClasses, backend: options.backend };
  const entry = threadModule(import.meta.url, 'model-worker');
  const workers: ModelWorker[] = [];
  let closed = false;

  async function spawn(): Promise<ModelWorker> {
    const worker = await startThread<ModelWorkerCalls, ModelWorkerInfo, ModelWorkerInit>({
      entry,
      init,
      name: 'model worker',
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
    });
    worker.onExit((err) => {
      const i = workers.indexOf(worker);
      if (i >= 0) workers.splice(i, 1);
      if (closed) return;
      logger.error({ err }, 'model worker stopped; starting a replacement');
      spawn().then(
        (w) => (closed ? void w.terminate() : workers.push(w)),
        (e: unknown) => logger.error({ err: e }, 'model worker replacement failed'),
      );
    });
    return worker;
  }

  const started = await Promise.allSettled(Array.from({ length: Math.max(1, options.workers) }, () => spawn()));
  for (const r of started) if (r.status === 'fulfilled') workers.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw failed.reason;
  }
  logger.info({ workers: workers.length, backend: workers[0]?.info.backend, kernels: workers[0]?.info.kernels }, 'model workers ready');

  return {
    size,
    numClasses,
    async predict(pixels: Uint8Array, n: number): Promise<Float32Array> {
      if (closed) throw new Error('predictor is closed');
      const worker = workers.reduce<ModelWorker | undefined>((best, w) => (!best || w.inFlight < best.inFlight ? w : best), undefined);
      if (!worker) throw new Error('no model worker is running');
      // Transfer the pixels when they own their buffer outright; otherwise they are copied.
      const transferable = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer;
      return worker.call('predict', transferable ? transferring({ pixels, n }, [pixels.buffer as ArrayBuffer]) : { pixels, n });
    },
    async stats(): Promise<PredictorStats> {
      const all = await Promise.all(workers.map((w) => w.call('stats')));
      let numTensors = 0;
      let numBytes = 0;
      let backend = 'unknown';
      for (const s of all) {
        numTensors += s.numTensors;
        numBytes += s.numBytes;
        backend = s.backend;
      }
      return { numTensors, numBytes, backend };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

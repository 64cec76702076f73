import { Worker } from 'node:worker_threads';
import type { Logger } from '../shared/logger.js';
import type { BackendPreference } from '../ml/backend/select.js';
import type { ModelPayload } from './model-transfer.js';
import type { Predictor, PredictorStats } from './predictor.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

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

interface Slot {
  worker: Worker;
  busy: number;
  backend: string;
  readonly pending: Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>;
}

/**
 * Runs the model in a pool of worker threads, so that inference uses every core while the main
 * thread keeps parsing requests and decoding images (sharp decodes on the libuv pool). Each
 * call goes to the least busy worker. A worker that dies fails its in-flight calls and is
 * replaced. Resolves once every worker has loaded the model and passed a warm-up prediction.
 */
export async function createWorkerPoolPredictor(options: WorkerPoolOptions): Promise<Predictor> {
  const { size, numClasses, logger } = options;
  const init: WorkerInit = { payload: options.payload, size, numClasses, backend: options.backend };
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  let closed = false;
  let nextId = 1;

  const workerUrl = workerEntry();

  function spawn(): Promise<Slot> {
    return new Promise<Slot>((resolve, reject) => {
      const worker = new Worker(workerUrl, { workerData: init });
      const slot: Slot = { worker, busy: 0, backend: 'unknown', pending: new Map() };
      let started = false;
      const timer = setTimeout(() => {
        if (started) return;
        void worker.terminate();
        reject(new Error(`model worker did not become ready within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          started = true;
          clearTimeout(timer);
          slot.backend = msg.backend;
          resolve(slot);
        } else if (msg.type === 'failed') {
          clearTimeout(timer);
          void worker.terminate();
          reject(new Error(`model worker failed to start: ${msg.message}`));
        } else {
          const p = slot.pending.get(msg.id);
          if (!p) return;
          slot.pending.delete(msg.id);
          if (msg.type === 'error') p.reject(new Error(msg.message));
          else p.resolve(msg);
        }
      });
      worker.on('error', (err) => {
        logger.error({ err }, 'model worker error');
        if (!started) {
          clearTimeout(timer);
          reject(err);
        }
      });
      worker.on('exit', (code) => {
        const failure = new Error(`model worker exited with code ${code}`);
        for (const p of slot.pending.values()) p.reject(failure);
        slot.pending.clear();
        if (!started || closed) return;
        const i = slots.indexOf(slot);
        if (i >= 0) slots.splice(i, 1);
        logger.error({ code }, 'model worker exited; starting a replacement');
        spawn().then(
          (s) => (closed ? void s.worker.terminate() : slots.push(s)),
          (err: unknown) => logger.error({ err }, 'model worker replacement failed'),
        );
      });
    });
  }

  const slots: Slot[] = [];
  const started = await Promise.allSettled(Array.from({ length: Math.max(1, options.workers) }, () => spawn()));
  for (const r of started) if (r.status === 'fulfilled') slots.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw failed.reason;
  }
  logger.info({ workers: slots.length, backend: slots[0]?.backend }, 'model workers ready');

  function call(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    return new Promise<FromWorker>((resolve, reject) => {
      slot.busy++;
      slot.pending.set(msg.id, {
        resolve: (m) => {
          slot.busy--;
          resolve(m);
        },
        reject: (e) => {
          slot.busy--;
          reject(e);
        },
      });
      slot.worker.postMessage(msg, transfer);
    });
  }

  return {
    size,
    numClasses,
    async predict(pixels: Uint8Array, n: number): Promise<Float32Array> {
      if (closed) throw new Error('predictor is closed');
      const slot = slots.reduce<Slot | undefined>((best, s) => (!best || s.busy < best.busy ? s : best), undefined);
      if (!slot) throw new Error('no model worker is running');
      // Transfer the pixels when they own their buffer outright; otherwise they are copied.
      const transferable = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer;
      const msg = await call(slot, { type: 'predict', id: nextId++, pixels, n }, transferable ? [pixels.buffer as ArrayBuffer] : []);
      if (msg.type !== 'result') throw new Error(`unexpected worker answer ${msg.type}`);
      return msg.probabilities;
    },
    async stats(): Promise<PredictorStats> {
      const all = await Promise.all(slots.map((s) => call(s, { type: 'stats', id: nextId++ })));
      let numTensors = 0;
      let numBytes = 0;
      let backend = 'unknown';
      for (const m of all) {
        if (m.type !== 'stats') continue;
        numTensors += m.numTensors;
        numBytes += m.numBytes;
        backend = m.backend;
      }
      return { numTensors, numBytes, backend };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/**
 * The worker's entry module: model-worker.js in built code; from TypeScript sources (tests,
 * tsx) a small bootstrap that registers tsx inside the worker first, since worker threads do
 * not inherit tsx's loader.
 */
function workerEntry(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './model-worker-tsx.mjs' : './model-worker.js', import.meta.url);
}

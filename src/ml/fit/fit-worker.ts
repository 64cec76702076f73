/**
 * Worker-thread entry of data-parallel training: hosts one Replica and answers the
 * WorkerReplicaHost's requests ({ id, method, arg } → { id, ok, value | error }) in order.
 */
import { parentPort } from 'node:worker_threads';
import { ReplicaState, type HostInit, type StepRequest } from './replica-host.js';

if (!parentPort) throw new Error('fit-worker must run in a worker thread');
const port = parentPort;
let state: ReplicaState | undefined;
let queue: Promise<void> = Promise.resolve();

port.on('message', (msg: { id: number; method: string; arg: unknown }) => {
  queue = queue.then(async () => {
    try {
      const value = await handle(msg.method, msg.arg);
      const transfer = value instanceof Object && 'grads' in value && value.grads instanceof Float32Array ? [value.grads.buffer as ArrayBuffer] : [];
      port.postMessage({ id: msg.id, ok: true, value }, transfer);
    } catch (err) {
      port.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
});

async function handle(method: string, arg: unknown): Promise<unknown> {
  if (method === 'init') {
    state = await ReplicaState.create(arg as HostInit);
    return state.replica.backend;
  }
  if (!state) throw new Error('fit-worker: init first');
  switch (method) {
    case 'step':
      return state.step(arg as StepRequest);
    case 'apply': {
      const { grads, learningRate } = arg as { grads: Float32Array; learningRate?: number };
      state.replica.apply(grads, learningRate);
      return null;
    }
    case 'evaluate': {
      const { start, end } = arg as { start: number; end: number };
      return state.evaluate(start, end);
    }
    case 'getWeights':
      return state.replica.getWeights();
    case 'setWeights':
      state.replica.setWeights(arg as Float32Array[]);
      return null;
    default:
      throw new Error(`fit-worker: unknown method ${method}`);
  }
}

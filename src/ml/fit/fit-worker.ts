/**
 * Worker-thread entry of data-parallel training: hosts one Replica, started from the HostInit the
 * WorkerReplicaHost gives it, and answers its calls (ReplicaCalls).
 */
import { transferring } from '../../shared/thread-rpc/protocol.js';
import { serveThread } from '../../shared/thread-rpc/serve-thread.js';
import { ReplicaState, type HostInit, type ReplicaCalls } from './replica-host.js';

serveThread(async (init: HostInit) => {
  const state = await ReplicaState.create(init);
  const handlers: ReplicaCalls = {
    step: (req) => {
      const result = state.step(req);
      return transferring(result, [result.grads.buffer as ArrayBuffer]);
    },
    apply: ({ grads, learningRate }) => {
      state.replica.apply(grads, learningRate);
      return null;
    },
    evaluate: ({ start, end }) => state.evaluate(start, end),
    getWeights: () => state.replica.getWeights(),
    setWeights: (weights) => {
      state.replica.setWeights(weights);
      return null;
    },
  };
  return { info: state.replica.backend, handlers };
});

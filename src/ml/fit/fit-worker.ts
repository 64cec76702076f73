/**
 * Worker-thread entry of data-parallel training: builds one replica from the ReplicaSpec it is
 * started with (whatever kind the spec's module implements) and answers its calls (ReplicaCalls).
 */
import { transferring } from '../../shared/thread-rpc/protocol.js';
import { serveThread } from '../../shared/thread-rpc/serve-thread.js';
import { createReplicaState, type ReplicaCalls, type ReplicaInfo, type ReplicaSpec } from './replica-host.js';

serveThread(async (spec: ReplicaSpec) => {
  const state = await createReplicaState(spec);
  const handlers: ReplicaCalls = {
    step: (req) => {
      const result = state.step(req);
      return transferring(result, [result.grads.buffer as ArrayBuffer]);
    },
    apply: ({ grads, learningRate }) => {
      state.apply(grads, learningRate);
      return null;
    },
    evaluate: ({ start, end }) => state.evaluate(start, end),
    getWeights: () => state.getWeights(),
    setWeights: (weights) => {
      state.setWeights(weights);
      return null;
    },
  };
  const info: ReplicaInfo = { backend: state.backend, trainable: state.trainable };
  return { info, handlers };
});

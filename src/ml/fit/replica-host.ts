import type { Transferring } from '../../shared/thread-rpc/protocol.js';
import { startThread, threadModule, type Thread } from '../../shared/thread-rpc/start-thread.js';

export interface StepResult {
  /** Mean loss over the sub-batch. */
  loss: number;
  correct: number;
  count: number;
  /** Gradients of the mean loss, all trainable weights concatenated in weight order. */
  grads: Float32Array;
}

export interface EvalResult {
  lossSum: number;
  correct: number;
  count: number;
}

export interface StepRequest {
  /** Gradients of the previous step to apply first (keeps one message round trip per step). */
  apply?: Float32Array;
  /** Learning rate for `apply`. */
  learningRate?: number;
  /** Training examples of this step's share of the batch. */
  indices: Int32Array;
  seed: number;
}

/**
 * One model copy with its own optimiser state, over training data it holds (shared memory):
 * what data-parallel training runs one of per core. Implemented per kind of training data —
 * images (image-replica.ts) or cached backbone features (../transfer/feature-replica.ts).
 */
export interface ReplicaState {
  readonly backend: string;
  /** Per entry of getWeights(): trainable (updated by gradients) or a statistic averaged across replicas. */
  readonly trainable: readonly boolean[];
  /** Applies `req.apply` (if any), then forward + backward on `req.indices`. */
  step(req: StepRequest): StepResult;
  apply(grads: Float32Array, learningRate?: number): void;
  /** Inference-mode loss and hits over validation examples [start, end). */
  evaluate(start: number, end: number): EvalResult;
  getWeights(): Float32Array[];
  setWeights(weights: Float32Array[]): void;
  dispose(): void;
}

/**
 * A kind of replica: the module that builds it (it exports `createReplicaState(init)`) and its
 * start-up data, structured-cloneable (SharedArrayBuffers are shared, not copied). Passing the
 * module keeps this file free of every replica kind.
 */
export interface ReplicaSpec<Init = unknown> {
  readonly module: string;
  readonly init: Init;
}

/** The shape of a replica module. */
export interface ReplicaModule<Init> {
  createReplicaState(init: Init): Promise<ReplicaState>;
}

/** The URL (href) of a replica module beside `besideUrl`, `.ts` from sources, `.js` when built. */
export function replicaModule(besideUrl: string, name: string): string {
  return threadModule(besideUrl, name).href;
}

/** A replica in this thread or in a worker thread, behind one asynchronous interface. */
export interface ReplicaHost {
  readonly backend: string;
  readonly trainable: readonly boolean[];
  step(req: StepRequest): Promise<StepResult>;
  apply(grads: Float32Array, learningRate?: number): Promise<void>;
  evaluate(start: number, end: number): Promise<EvalResult>;
  getWeights(): Promise<Float32Array[]>;
  setWeights(weights: Float32Array[]): Promise<void>;
  close(): Promise<void>;
}

/** The calls a replica's worker thread answers (fit-worker.ts). */
export interface ReplicaCalls {
  /** The gradients are moved back, not copied. */
  step(req: StepRequest): Transferring<StepResult>;
  apply(arg: { grads: Float32Array; learningRate?: number }): null;
  evaluate(range: { start: number; end: number }): EvalResult;
  getWeights(): Float32Array[];
  setWeights(weights: Float32Array[]): null;
}

/** What a replica thread reports once ready. */
export interface ReplicaInfo {
  readonly backend: string;
  readonly trainable: readonly boolean[];
}

export async function createReplicaState(spec: ReplicaSpec): Promise<ReplicaState> {
  const mod = (await import(spec.module)) as ReplicaModule<unknown>;
  return mod.createReplicaState(spec.init);
}

export class LocalReplicaHost implements ReplicaHost {
  private constructor(private readonly state: ReplicaState) {}

  static async create(spec: ReplicaSpec): Promise<LocalReplicaHost> {
    return new LocalReplicaHost(await createReplicaState(spec));
  }

  get backend(): string {
    return this.state.backend;
  }
  get trainable(): readonly boolean[] {
    return this.state.trainable;
  }
  async step(req: StepRequest): Promise<StepResult> {
    return this.state.step(req);
  }
  async apply(grads: Float32Array, learningRate?: number): Promise<void> {
    this.state.apply(grads, learningRate);
  }
  async evaluate(start: number, end: number): Promise<EvalResult> {
    return this.state.evaluate(start, end);
  }
  async getWeights(): Promise<Float32Array[]> {
    return this.state.getWeights();
  }
  async setWeights(weights: Float32Array[]): Promise<void> {
    this.state.setWeights(weights);
  }
  async close(): Promise<void> {
    this.state.dispose();
  }
}

/** A replica in a worker thread (fit-worker.ts); data arrives once in shared memory. */
export class WorkerReplicaHost implements ReplicaHost {
  private constructor(private readonly thread: Thread<ReplicaCalls, ReplicaInfo>) {}

  static async create(spec: ReplicaSpec): Promise<WorkerReplicaHost> {
    return new WorkerReplicaHost(await startThread<ReplicaCalls, ReplicaInfo, ReplicaSpec>({ entry: threadModule(import.meta.url, 'fit-worker'), init: spec, name: 'training worker' }));
  }

  get backend(): string {
    return this.thread.info.backend;
  }
  get trainable(): readonly boolean[] {
    return this.thread.info.trainable;
  }
  step(req: StepRequest): Promise<StepResult> {
    return this.thread.call('step', req);
  }
  async apply(grads: Float32Array, learningRate?: number): Promise<void> {
    await this.thread.call('apply', { grads, learningRate });
  }
  evaluate(start: number, end: number): Promise<EvalResult> {
    return this.thread.call('evaluate', { start, end });
  }
  getWeights(): Promise<Float32Array[]> {
    return this.thread.call('getWeights');
  }
  async setWeights(weights: Float32Array[]): Promise<void> {
    await this.thread.call('setWeights', weights);
  }
  close(): Promise<void> {
    return this.thread.terminate();
  }
}

/** `count` replicas of `spec`: in worker threads, or one in this thread when `count` is 0. */
export async function startReplicas(spec: ReplicaSpec, count: number): Promise<ReplicaHost[]> {
  if (count === 0) return [await LocalReplicaHost.create(spec)];
  return Promise.all(Array.from({ length: count }, () => WorkerReplicaHost.create(spec)));
}

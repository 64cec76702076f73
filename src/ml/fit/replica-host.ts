import type { Transferring } from '../../shared/thread-rpc/protocol.js';
import { startThread, threadModule, type Thread } from '../../shared/thread-rpc/start-thread.js';
import type { BackendPreference } from '../backend/select.js';
import type { ModelSpec } from '../model-factory.js';
import { gatherBatch } from './augment.js';
import { seededRandom } from '../../shared/random.js';
import { Replica, type EvalResult, type StepResult } from './replica.js';
import type { Augmentation } from './types.js';

/** Everything a replica needs at start: the model, the optimiser and the (shared) data. */
export interface HostInit {
  spec: ModelSpec;
  learningRate: number;
  backend: BackendPreference;
  augmentation: Augmentation;
  imageSize: number;
  trainPixels: Uint8Array;
  trainLabels: Int32Array;
  valPixels: Uint8Array;
  valLabels: Int32Array;
}

export interface StepRequest {
  /** Gradients of the previous step to apply first (keeps one message round trip per step). */
  apply?: Float32Array;
  /** Learning rate for `apply`. */
  learningRate?: number;
  indices: Int32Array;
  seed: number;
}

/** A replica in this thread or in a worker thread, behind one asynchronous interface. */
export interface ReplicaHost {
  readonly backend: string;
  step(req: StepRequest): Promise<StepResult>;
  apply(grads: Float32Array, learningRate?: number): Promise<void>;
  /** Evaluates validation images [start, end). */
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

/** The replica-side logic shared by the in-thread host and the worker thread. */
export class ReplicaState {
  private constructor(
    readonly replica: Replica,
    private readonly init: HostInit,
  ) {}

  static async create(init: HostInit): Promise<ReplicaState> {
    return new ReplicaState(await Replica.create({ spec: init.spec, learningRate: init.learningRate, backend: init.backend }), init);
  }

  step(req: StepRequest): StepResult {
    if (req.apply) this.replica.apply(req.apply, req.learningRate);
    const { trainPixels, trainLabels, imageSize, augmentation } = this.init;
    const pixels = gatherBatch(trainPixels, imageSize, req.indices, augmentation, seededRandom(req.seed));
    const labels = Array.from(req.indices, (i) => trainLabels[i] as number);
    return this.replica.step(pixels, labels, req.indices.length, req.seed);
  }

  evaluate(start: number, end: number): EvalResult {
    const img = this.init.imageSize * this.init.imageSize * 3;
    return this.replica.evaluate(this.init.valPixels.subarray(start * img, end * img), this.init.valLabels.subarray(start, end), end - start);
  }
}

export class LocalReplicaHost implements ReplicaHost {
  private constructor(private readonly state: ReplicaState) {}

  static async create(init: HostInit): Promise<LocalReplicaHost> {
    return new LocalReplicaHost(await ReplicaState.create(init));
  }

  get backend(): string {
    return this.state.replica.backend;
  }
  async step(req: StepRequest): Promise<StepResult> {
    return this.state.step(req);
  }
  async apply(grads: Float32Array, learningRate?: number): Promise<void> {
    this.state.replica.apply(grads, learningRate);
  }
  async evaluate(start: number, end: number): Promise<EvalResult> {
    return this.state.evaluate(start, end);
  }
  async getWeights(): Promise<Float32Array[]> {
    return this.state.replica.getWeights();
  }
  async setWeights(weights: Float32Array[]): Promise<void> {
    this.state.replica.setWeights(weights);
  }
  async close(): Promise<void> {
    this.state.replica.dispose();
  }
}

/** A replica in a worker thread (fit-worker.ts); data arrives once in shared memory. */
export class WorkerReplicaHost implements ReplicaHost {
  private constructor(private readonly thread: Thread<ReplicaCalls, string>) {}

  static async create(init: HostInit): Promise<WorkerReplicaHost> {
    return new WorkerReplicaHost(await startThread<ReplicaCalls, string, HostInit>({ entry: threadModule(import.meta.url, 'fit-worker'), init, name: 'training worker' }));
  }

  get backend(): string {
    return this.thread.info;
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

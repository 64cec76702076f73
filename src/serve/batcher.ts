import { clearTimeout, setTimeout } from 'node:timers';
import { OverloadedError } from './admission.js';

export interface MicroBatcherOptions<I, O> {
  /** Largest batch handed to `run`. */
  readonly maxBatchSize: number;
  /** Longest an item waits for companions while a runner is idle, in milliseconds. */
  readonly maxWaitMs: number;
  /** How many batches may run at once (e.g. the number of model workers). */
  readonly concurrency: number;
  /** Items allowed to wait; beyond this `submit` rejects with 503 (load shedding). */
  readonly maxQueue: number;
  /** Processes one batch; must resolve to exactly one output per input, in order. */
  readonly run: (items: readonly I[]) => Promise<readonly O[]>;
  /** Called with every dispatched batch's size (for a histogram). */
  readonly onBatch?: (size: number) => void;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Coalesces concurrent requests into batches. An item that arrives while a runner is free waits
 * at most `maxWaitMs` for others (or until `maxBatchSize` are queued); items that arrive while
 * every runner is busy are taken, up to `maxBatchSize` at a time, as soon as one frees up. So a
 * lone request pays at most `maxWaitMs`, and under load the batch size grows with the queue.
 */
export class MicroBatcher<I, O> {
  readonly #opts: MicroBatcherOptions<I, O>;
  readonly #queue: Pending<I, O>[] = [];
  #running = 0;
  #timer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: MicroBatcherOptions<I, O>) {
    if (options.maxBatchSize < 1 || options.concurrency < 1) throw new RangeError('maxBatchSize and concurrency must be at least 1');
    this.#opts = options;
  }

  /** Items waiting plus items being processed. */
  get load(): number {
    return this.#queue.length + this.#running;
  }

  submit(item: I): Promise<O> {
    if (this.#queue.length >= this.#opts.maxQueue) {
      return Promise.reject(new OverloadedError('queue'));
    }
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or running (used on shutdown). */
  idle(): Promise<void> {
    if (this.load === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#running >= this.#opts.concurrency || this.#queue.length === 0) return;
    if (this.#queue.length >= this.#opts.maxBatchSize || this.#opts.maxWaitMs <= 0) {
      this.#dispatch();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#dispatch();
    }, this.#opts.maxWaitMs);
  }

  #dispatch(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#running < this.#opts.concurrency && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#opts.maxBatchSize);
      this.#running++;
      this.#opts.onBatch?.(batch.length);
      void this.#runBatch(batch);
      // Leave partial batches for the timer while a runner is still free and nothing is waiting long.
      if (this.#queue.length < this.#opts.maxBatchSize) break;
    }
    if (this.#queue.length > 0) this.#schedule();
  }

  async #runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.#opts.run(batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`batch runner returned ${out.length} results for ${batch.length} inputs`);
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.#running--;
      if (this.#queue.length > 0) {
        // These items have waited while every runner was busy: take them now.
        this.#dispatch();
      } else if (this.#running === 0) {
        const waiters = this.#idleWaiters.splice(0);
        for (const w of waiters) w();
      }
    }
  }
}

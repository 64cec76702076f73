/**
 * The messages between a parent and the thread it started (start-thread.ts, serve-thread.ts):
 * the thread announces that it is ready (or why it is not), then answers numbered calls, each
 * with its value or its error, in any order.
 */

/** The methods a thread answers: each takes at most one structured-cloneable argument. */
export type Handlers<H> = { [M in keyof H]: (arg: never) => unknown };

/** What the thread is started with (the Worker's workerData). */
export interface ThreadData<Init> {
  readonly init: Init;
  /** From TypeScript sources: the module the tsx bootstrap loads. */
  readonly entry?: string;
}

export type ToThread = { readonly id: number; readonly method: string; readonly arg: unknown };

export type FromThread =
  | { readonly type: 'ready'; readonly info: unknown }
  | { readonly type: 'failed'; readonly message: string; readonly stack?: string }
  | { readonly type: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly stack?: string };

const TRANSFER = Symbol('transfer');

/** A value sent with a transfer list: the buffers move to the other side instead of being copied. */
export interface Transferring<V> {
  readonly [TRANSFER]: true;
  readonly value: V;
  readonly transfer: readonly ArrayBuffer[];
}

/** Sends `value` with its buffers moved, not copied (a handler's answer, or a call's argument). */
export function transferring<V>(value: V, transfer: readonly ArrayBuffer[]): Transferring<V> {
  return { [TRANSFER]: true, value, transfer };
}

export function isTransferring(value: unknown): value is Transferring<unknown> {
  return typeof value === 'object' && value !== null && TRANSFER in value;
}

/** What a call resolves to: the handler's answer, unwrapped. */
export type Answer<R> = Awaited<R> extends Transferring<infer V> ? V : Awaited<R>;

/** What a call takes: the handler's argument, possibly with a transfer list. */
export type Argument<F> = F extends () => unknown ? [] : F extends (arg: infer A) => unknown ? [arg: A | Transferring<A>] : never;

/** Where the server is in its life: the answer of /readyz and /v2/health/ready. */
export type ReadinessState =
  | { readonly phase: 'loading' }
  | { readonly phase: 'ready' }
  | { readonly phase: 'failed'; readonly reason: string; readonly message: string }
  | { readonly phase: 'stopping' };

/** A small mutable holder shared by the lifecycle (which writes) and the routes (which read). */
export class Readiness {
  #state: ReadinessState = { phase: 'loading' };

  get state(): ReadinessState {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state.phase === 'ready';
  }

  set(state: ReadinessState): void {
    // Once stopping, stay stopping: a late load result must not make a draining server ready.
    if (this.#state.phase === 'stopping') return;
    this.#state = state;
  }
}

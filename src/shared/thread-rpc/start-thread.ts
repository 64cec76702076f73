import { Worker } from 'node:worker_threads';
import { isTransferring, type Answer, type Argument, type FromThread, type Handlers, type ThreadData, type ToThread } from './protocol.js';

export interface StartThreadOptions<Init> {
  /** The thread's module (see {@link threadModule}). */
  readonly entry: URL;
  /** Its start-up data, structured-cloned (SharedArrayBuffers are shared). */
  readonly init: Init;
  /** For messages: "model worker", "training worker". */
  readonly name: string;
  /** How long start-up (load, warm-up) may take, ms; default: no limit. */
  readonly startTimeoutMs?: number;
}

/**
 * A started thread and its typed calls. Every call gets its own answer (calls may overlap). Once
 * the thread fails or exits, every call in flight and every later one is rejected.
 */
export interface Thread<H extends Handlers<H>, Info> {
  /** What the thread reported when it became ready (e.g. its TF.js backend). */
  readonly info: Info;
  /** Calls sent and not answered yet. */
  readonly inFlight: number;
  call<M extends keyof H & string>(method: M, ...arg: Argument<H[M]>): Promise<Answer<ReturnType<H[M]>>>;
  /** Called once, when the thread stops other than by terminate(): why. */
  onExit(listener: (err: Error) => void): void;
  /** Stops the thread (calls in flight are rejected); no exit listener is called. */
  terminate(): Promise<void>;
}

/**
 * Where a thread's module is, from the URL of a module beside it and its name without extension:
 * `<name>.js` in built code, `<name>.ts` from TypeScript sources (tests, tsx).
 */
export function threadModule(besideUrl: string, name: string): URL {
  return new URL(`./${name}${besideUrl.endsWith('.ts') ? '.ts' : '.js'}`, besideUrl);
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

const remoteError = (message: string, stack: string | undefined): Error => {
  const err = new Error(message);
  if (stack) err.stack = stack;
  return err;
};

/**
 * Starts a worker thread that runs serveThread() and resolves once it is ready. A TypeScript
 * module is started through a tsx bootstrap, since worker threads do not inherit tsx's loader.
 */
export function startThread<H extends Handlers<H>, Info, Init>(options: StartThreadOptions<Init>): Promise<Thread<H, Info>> {
  const fromSource = options.entry.pathname.endsWith('.ts');
  const data: ThreadData<Init> = { init: options.init, ...(fromSource ? { entry: options.entry.href } : {}) };
  const worker = new Worker(fromSource ? new URL('./tsx-bootstrap.mjs', import.meta.url) : options.entry, { workerData: data });
  const pending = new Map<number, Pending>();
  const exitListeners: Array<(err: Error) => void> = [];
  let nextId = 1;
  let failure: Error | undefined;
  let terminating = false;

  const fail = (err: Error): void => {
    const first = failure === undefined;
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (first && !terminating) for (const l of exitListeners) l(err);
  };

  return new Promise((resolve, reject) => {
    let ready = false;
    const timer =
      options.startTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            void worker.terminate();
            reject(new Error(`${options.name} did not become ready within ${options.startTimeoutMs} ms`));
          }, options.startTimeoutMs);
    const notReady = (err: Error): void => {
      clearTimeout(timer);
      void worker.terminate();
      reject(err);
    };

    worker.on('message', (msg: FromThread) => {
      if (msg.type === 'ready') {
        ready = true;
        clearTimeout(timer);
        resolve(thread(msg.info as Info));
      } else if (msg.type === 'failed') {
        notReady(remoteError(`${options.name} failed to start: ${msg.message}`, msg.stack));
      } else {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.type === 'error') p.reject(remoteError(msg.message, msg.stack));
        else p.resolve(msg.value);
      }
    });
    worker.on('error', (err) => (ready ? fail(err) : notReady(err)));
    worker.on('exit', (code) => {
      const err = new Error(`${options.name} exited with code ${code}`);
      if (ready) fail(err);
      else notReady(err);
    });
  });

  function thread(info: Info): Thread<H, Info> {
    return {
      info,
      get inFlight() {
        return pending.size;
      },
      call(method, ...[arg]) {
        if (failure) return Promise.reject(failure);
        const id = nextId++;
        const [value, transfer] = isTransferring(arg) ? [arg.value, arg.transfer] : [arg, []];
        return new Promise((resolve, reject) => {
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
          worker.postMessage({ id, method, arg: value } satisfies ToThread, [...transfer]);
        });
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      async terminate() {
        terminating = true;
        await worker.terminate();
      },
    };
  }
}

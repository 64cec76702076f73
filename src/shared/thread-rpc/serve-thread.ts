import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { isTransferring, type FromThread, type Handlers, type ThreadData, type ToThread } from './protocol.js';

/** What a thread's start-up gives: what to report to the parent, and the calls it answers. */
export interface ServedThread<H extends Handlers<H>, Info> {
  readonly info: Info;
  readonly handlers: H;
}

const errorFields = (err: unknown): { message: string; stack?: string } =>
  err instanceof Error ? { message: err.message, ...(err.stack ? { stack: err.stack } : {}) } : { message: String(err) };

/**
 * The thread side of startThread(): runs `start` on the start-up data, reports ready (or why
 * not), then answers calls as they come, each with its handler's value (a `transferring` one
 * moves its buffers) or its error. Call it at the top level of a thread's module; on the main
 * thread (the module imported elsewhere) it does nothing.
 */
export function serveThread<Init, H extends Handlers<H>, Info>(start: (init: Init) => Promise<ServedThread<H, Info>>): void {
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  const send = (msg: FromThread, transfer: readonly ArrayBuffer[] = []): void => port.postMessage(msg, [...transfer]);
  const { init } = workerData as ThreadData<Init>;
  start(init).then(
    ({ info, handlers }) => {
      port.on('message', (msg: ToThread) => {
        void (async () => {
          try {
            const handler: unknown = handlers[msg.method as keyof H];
            if (typeof handler !== 'function') throw new Error(`unknown method ${msg.method}`);
            const value = await handler.call(handlers, msg.arg);
            if (isTransferring(value)) send({ type: 'reply', id: msg.id, value: value.value }, value.transfer);
            else send({ type: 'reply', id: msg.id, value });
          } catch (err) {
            send({ type: 'error', id: msg.id, ...errorFields(err) });
          }
        })();
      });
      send({ type: 'ready', info });
    },
    (err: unknown) => send({ type: 'failed', ...errorFields(err) }),
  );
}

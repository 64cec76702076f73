import { Readable } from 'node:stream';

export interface BodyGuardErrors {
  /** The body had started and then the source sent nothing for `idleMs` while the consumer waited. */
  idle(receivedBytes: number): Error;
  /** The body did not start within `openMs` of the consumer's first read. */
  open(): Error;
  /** The source ended (or closed) with a byte count other than the one announced to `started()`. */
  length(receivedBytes: number, expectedBytes: number | undefined): Error;
  /** The source's own error, mapped (identity by default). */
  source?(err: unknown): Error;
}

export interface BodyGuardOptions {
  /** Longest silence of a started body while the consumer waits for bytes, ms. */
  readonly idleMs: number;
  /** Longest wait for the body to start (see `started()`), ms; unbounded when absent. */
  readonly openMs?: number;
  readonly errors: BodyGuardErrors;
}

export interface GuardedBody {
  /** The guarded stream to hand to the consumer; it errors with the errors of {@link BodyGuardErrors}. */
  readonly stream: Readable;
  /**
   * The body has started (a response's headers arrived); `expectedBytes`, when known, is the
   * length the body must end at (a Content-Length), or the stream errors instead of ending.
   */
  started(expectedBytes?: number): void;
}

/**
 * Passes `source` through, with two guards that an HTTP client streaming a response body does
 * not give (node-fetch 2, under @google-cloud/storage, neither times out nor errors when a server
 * sends part of a body and then nothing, or closes the connection early):
 *
 * - an idle timeout that runs only while the consumer waits: from a read the consumer asked for
 *   until the source's next chunk. A slow consumer is never timed out: when it stops reading,
 *   the guard's buffer fills, the source is paused (backpressure) and the timer stops until the
 *   consumer reads again;
 * - a length check at the end: a body that ends or closes short of (or beyond) its announced
 *   length errors instead of ending, so a partial object is never taken for a whole one.
 *
 * The source is subscribed to on the consumer's first read (a lazy source starts its request
 * then), and destroyed when the guarded stream is.
 */
export function guardBody(source: Readable, options: BodyGuardOptions): GuardedBody {
  let timer: NodeJS.Timeout | undefined;
  let subscribed = false;
  let isStarted = false;
  let ended = false;
  let expected: number | undefined;
  let received = 0;

  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const fail = (err: Error) => {
    stop();
    if (!stream.destroyed) stream.destroy(err);
  };
  const arm = () => {
    if (timer !== undefined || ended || stream.destroyed) return;
    const limit = isStarted ? options.idleMs : options.openMs;
    if (limit === undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      fail(isStarted ? options.errors.idle(received) : options.errors.open());
    }, limit);
  };
  const subscribe = () => {
    source.on('data', (chunk: Buffer) => {
      stop();
      received += chunk.length;
      // A full buffer means the consumer is not reading: pause the source and the timer with it.
      if (stream.push(chunk)) arm();
      else source.pause();
    });
    source.once('end', () => {
      stop();
      if (expected !== undefined && received !== expected) return fail(options.errors.length(received, expected));
      ended = true;
      stream.push(null);
    });
    source.on('error', (err: unknown) => fail(options.errors.source ? options.errors.source(err) : (err as Error)));
    // Closed with neither an end nor an error: the body was cut off.
    source.once('close', () => {
      if (!ended) fail(options.errors.length(received, expected));
    });
  };

  const stream = new Readable({
    read() {
      if (!subscribed) {
        subscribed = true;
        subscribe();
      }
      source.resume();
      arm();
    },
    destroy(err, callback) {
      stop();
      ended = true;
      if (!source.destroyed) source.destroy();
      callback(err);
    },
  });

  return {
    stream,
    started(expectedBytes) {
      if (isStarted) return;
      isStarted = true;
      expected = expectedBytes;
      stop();
      if (subscribed && !source.isPaused()) arm();
    },
  };
}

/**
 * Errors carry intent. A TerminalError will fail the same way on every retry (an invalid spec, a
 * dataset with one class): reconcilers turn it into a False condition and do not requeue, and the
 * worker exits with a reason the operator can read. Anything else is retryable.
 */
export class TerminalError extends Error {
  /** CamelCase reason, used verbatim as a condition reason or a termination reason. */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

export function isTerminal(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}

/**
 * An HTTP error with a status and whether its message may be shown to the client. Koa's error
 * middleware answers `{ "error": message }` for exposed errors and a generic message otherwise.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly expose: boolean;
  /** Bounded, machine-readable reason for metrics (never user input). */
  readonly reason: string;
  constructor(status: number, reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpError';
    this.status = status;
    this.expose = status < 500;
    this.reason = reason;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

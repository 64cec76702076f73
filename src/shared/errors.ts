/**
 * The base of every error that says why it happened with a bounded `reason` (never user input,
 * so safe as a metric label, a condition reason or a JSON field). Subclasses fix the vocabulary
 * with a union of string literals and may add fields of their own (a status, a URI).
 *
 * Reasons are CamelCase (`InvalidSpec`, `NotFound`), as Kubernetes writes them. Two older
 * vocabularies are kebab-case (ImageDecodeError's `corrupt`, ArtifactError's
 * `digest-mismatch`): they reach users as they are (a serving pod's /readyz, the skipped files
 * of metrics.json and the training report), so they keep their spelling until an API version
 * can change it.
 */
export class ReasonError<R extends string = string> extends Error {
  readonly reason: R;
  constructor(reason: R, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
  }
}

/**
 * Errors carry intent. A TerminalError will fail the same way on every retry (an invalid spec, a
 * dataset with one class): reconcilers turn it into a False condition and do not requeue, and the
 * worker exits with a reason the operator can read. Anything else is retryable.
 * The reason is CamelCase, used verbatim as a condition reason or a termination reason.
 */
export class TerminalError extends ReasonError {}

export function isTerminal(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}

/**
 * An HTTP error with a status and whether its message may be shown to the client. Koa's error
 * middleware answers `{ "error": message }` for exposed errors and a generic message otherwise.
 * The reason is bounded and machine-readable, for metrics (never user input).
 */
export class HttpError extends ReasonError {
  readonly status: number;
  readonly expose: boolean;
  constructor(status: number, reason: string, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.status = status;
    this.expose = status < 500;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

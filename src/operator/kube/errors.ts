/**
 * An API server answer other than 2xx. `reason` is the `Status.reason` the server sent
 * (NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired ...), `status` the HTTP code.
 * A 409 Conflict is retryable: the caller throws it on so the work queue retries with backoff.
 */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason !== 'AlreadyExists';
}

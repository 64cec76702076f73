import { ReasonError } from '../../shared/errors.js';

/**
 * An API server answer other than 2xx. `reason` is the `Status.reason` the server sent
 * (NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired ...), `status` the HTTP code.
 * A 409 Conflict is retryable: the caller throws it on so the work queue retries with backoff.
 */
export class KubeApiError extends ReasonError {
  readonly status: number;
  constructor(status: number, reason: string, message: string) {
    super(reason, message);
    this.status = status;
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

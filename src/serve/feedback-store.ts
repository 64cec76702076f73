import { LRUCache } from 'lru-cache';
import { HttpError } from '../shared/errors.js';

export interface FeedbackStoreOptions {
  /** Most recent predictions remembered; older ones are forgotten first. */
  readonly capacity: number;
  /** How long a prediction can receive feedback, ms. */
  readonly ttlMs: number;
}

interface Remembered {
  readonly label: string;
  answered: boolean;
}

/**
 * Remembers the predicted label of recent requests (bounded by count and age), so that
 * `POST /feedback {requestId, label}` can tell whether the prediction was right. Each
 * prediction takes one piece of feedback; a second one is a conflict.
 */
export class FeedbackStore {
  readonly #cache: LRUCache<string, Remembered>;

  constructor(options: FeedbackStoreOptions) {
    this.#cache = new LRUCache<string, Remembered>({ max: options.capacity, ttl: options.ttlMs });
  }

  remember(requestId: string, predicted: string): void {
    this.#cache.set(requestId, { label: predicted, answered: false });
  }

  /** Resolves feedback to the predicted label and whether it was correct; throws 404/409. */
  judge(requestId: string, trueLabel: string): { predicted: string; correct: boolean } {
    const entry = this.#cache.get(requestId);
    if (!entry) throw new HttpError(404, 'UnknownRequestId', 'unknown or expired request id');
    if (entry.answered) throw new HttpError(409, 'FeedbackAlreadyRecorded', 'feedback for this request id was already recorded');
    entry.answered = true;
    return { predicted: entry.label, correct: entry.label === trueLabel };
  }

  get size(): number {
    return this.#cache.size;
  }
}

import { LRUCache } from 'lru-cache';
import { HttpError } from '../../shared/errors.js';
import type { FeedbackRecord } from '../../shared/prediction-log/records.js';
import type { ModelIdentity } from '../model-info.js';
import type { PredictionClaims, PredictionIdSigner } from './prediction-id.js';

export interface FeedbackDeskOptions {
  /** Feedback is accepted for predictions at most this old. */
  readonly maxAgeMs: number;
  /** Prediction ids remembered as answered by this process (a second feedback is a 409). */
  readonly rememberCapacity: number;
  readonly now?: () => number;
}

/** Where accepted feedback goes: the durable log when there is one. */
export interface FeedbackSink {
  readonly writerId: string;
  recordFeedback(record: Omit<FeedbackRecord, 'kind' | 'writer'>): boolean;
}

export interface Verdict {
  readonly claims: PredictionClaims;
  readonly label: string;
  readonly correct: boolean;
}

/**
 * Issues prediction ids and takes feedback on them. Ids are signed (prediction-id.ts), so any
 * replica sharing the key judges any prediction, attributed to the version that made it —
 * whichever pod or version answered. The signer is set once the key is loaded (the server is
 * not ready before). A prediction takes one piece of feedback per process (a second one is a
 * 409 here); a repeat sent to another replica is accepted there, and the dataset builder keeps
 * the latest feedback per prediction.
 */
export class FeedbackDesk {
  #signer: PredictionIdSigner | undefined;
  readonly #answered: LRUCache<string, true>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: FeedbackDeskOptions) {
    this.#maxAgeMs = options.maxAgeMs;
    this.#answered = new LRUCache<string, true>({ max: options.rememberCapacity });
    this.#now = options.now ?? Date.now;
  }

  setSigner(signer: PredictionIdSigner): void {
    this.#signer = signer;
  }

  get ready(): boolean {
    return this.#signer !== undefined;
  }

  /** The signed id of a prediction just made. */
  issue(claims: PredictionClaims): string {
    if (!this.#signer) throw new HttpError(503, 'NotReady', 'prediction id key is not loaded yet');
    return this.#signer.sign(claims);
  }

  /**
   * Judges feedback on a prediction: 400 InvalidPredictionId (malformed, forged or another
   * model's), 410 PredictionExpired, 400 UnknownLabel, 409 FeedbackAlreadyRecorded, 503
   * FeedbackLogFull (the durable log cannot take it now: nothing was kept, retry later).
   * Only feedback that is kept is acknowledged.
   */
  accept(request: { predictionId: string; label: string }, context: { identity: ModelIdentity; classes: readonly string[]; sink?: FeedbackSink }): Verdict {
    if (!this.#signer) throw new HttpError(503, 'NotReady', 'prediction id key is not loaded yet');
    const checked = this.#signer.verify(request.predictionId);
    if (!checked.ok) throw new HttpError(400, 'InvalidPredictionId', `predictionId is not a prediction id issued by this service (${checked.why})`);
    const { claims } = checked;
    if (claims.model !== context.identity.name) {
      throw new HttpError(400, 'InvalidPredictionId', `predictionId belongs to model "${claims.model}", not "${context.identity.name}"`);
    }
    const ageMs = this.#now() - claims.time * 1000;
    if (ageMs > this.#maxAgeMs) throw new HttpError(410, 'PredictionExpired', `the prediction is older than ${Math.round(this.#maxAgeMs / 1000)} s and no longer takes feedback`);
    if (!context.classes.includes(request.label)) throw new HttpError(400, 'UnknownLabel', `label must be one of: ${context.classes.join(', ')}`);
    if (this.#answered.has(claims.id)) throw new HttpError(409, 'FeedbackAlreadyRecorded', 'feedback for this prediction was already recorded');
    const correct = claims.label === request.label;
    if (context.sink) {
      const kept = context.sink.recordFeedback({
        id: claims.id,
        time: new Date(this.#now()).toISOString(),
        predictedAt: new Date(claims.time * 1000).toISOString(),
        model: claims.model,
        version: claims.version,
        predicted: claims.label,
        ...(claims.unsure ? { unsure: true } : {}),
        label: request.label,
        correct,
        image: { sha256: claims.sha256 },
        servedVersion: context.identity.version,
      });
      if (!kept) throw new HttpError(503, 'FeedbackLogFull', 'the feedback log cannot take more right now (storage is failing); nothing was recorded, retry later');
    }
    this.#answered.set(claims.id, true);
    return { claims, label: request.label, correct };
  }
}

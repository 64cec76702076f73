import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The records of a prediction log, one JSON object per line (see layout.ts for where they live).
 * `kennel serve` writes them; `kennel dataset build` and `kennel train --prediction-log` read
 * them. Readers skip (and count) a line that does not parse, so a torn or foreign line never
 * stops a build.
 */

const Sha256 = Type.String({ pattern: '^[a-f0-9]{64}$' });

export const PredictionRecord = Type.Object({
  kind: Type.Literal('prediction'),
  /** The prediction's own id (the nonce inside its signed prediction id); feedback names it. */
  id: Type.String({ minLength: 1, maxLength: 64 }),
  /** When it was answered (RFC 3339). */
  time: Type.String(),
  requestId: Type.String(),
  model: Type.String(),
  version: Type.String(),
  /** The answer's label: the top class, or null when the model was unsure (below --min-confidence). */
  label: Type.Union([Type.String(), Type.Null()]),
  /** The most probable class (what `label` is unless the answer was unsure). */
  top: Type.String(),
  confidence: Type.Number(),
  probabilities: Type.Record(Type.String(), Type.Number()),
  image: Type.Object({
    sha256: Sha256,
    bytes: Type.Integer({ minimum: 0 }),
    /** Key of the stored copy relative to the log prefix (images/<sha256>), when it was sampled. */
    stored: Type.Optional(Type.String()),
  }),
  /** The serving process that answered (pod name and a per-process suffix). */
  writer: Type.String(),
});
export type PredictionRecord = Static<typeof PredictionRecord>;

export const FeedbackRecord = Type.Object({
  kind: Type.Literal('feedback'),
  /** The prediction this feedback is about (PredictionRecord.id). */
  id: Type.String({ minLength: 1, maxLength: 64 }),
  /** When the feedback was accepted (RFC 3339). */
  time: Type.String(),
  /** When the prediction was made (RFC 3339, second precision: from the signed id). */
  predictedAt: Type.String(),
  model: Type.String(),
  /** The version that made the prediction (not necessarily the one that took the feedback). */
  version: Type.String(),
  /** The class the model predicted (its top class). */
  predicted: Type.String(),
  /** True when the prediction was answered with label null (below --min-confidence). */
  unsure: Type.Optional(Type.Boolean()),
  /** The true class, as the person said. */
  label: Type.String(),
  correct: Type.Boolean(),
  image: Type.Object({ sha256: Sha256 }),
  /** The serving process that accepted the feedback, and the version it served. */
  writer: Type.String(),
  servedVersion: Type.String(),
});
export type FeedbackRecord = Static<typeof FeedbackRecord>;

const checkers = {
  predictions: TypeCompiler.Compile(PredictionRecord),
  feedback: TypeCompiler.Compile(FeedbackRecord),
};

type RecordOf<S extends keyof typeof checkers> = S extends 'predictions' ? PredictionRecord : FeedbackRecord;

/** Parses one JSON Lines batch: the records that match the stream's schema and how many lines did not. */
export function parseBatch<S extends keyof typeof checkers>(stream: S, text: string): { records: RecordOf<S>[]; invalid: number } {
  const records: RecordOf<S>[] = [];
  let invalid = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      invalid++;
      continue;
    }
    if (checkers[stream].Check(value)) records.push(value as RecordOf<S>);
    else invalid++;
  }
  return { records, invalid };
}

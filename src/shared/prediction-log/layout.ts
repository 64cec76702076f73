import { joinUri } from '../storage/uri.js';

/**
 * Where a prediction log keeps what it holds, under the prefix given to
 * `kennel serve --prediction-log` (or an InferenceService's `logging.uri`):
 *
 *     <log>/predictions/<YYYY-MM-DD>/<HH>/<batch>.jsonl   one record per answered image
 *     <log>/feedback/<YYYY-MM-DD>/<HH>/<batch>.jsonl      one record per accepted correction
 *     <log>/images/<sha256>                               sampled images, content-addressed
 *     <log>/keys/prediction-id.key                        the key that signs prediction ids
 *
 * A batch object is written once and never appended to (GCS objects are immutable): its name is
 * `<start time>-<writer>-<sequence>.jsonl`, so names sort by time and two writers never collide.
 * The serving side (src/serve/prediction-log) writes this layout, the worker's dataset builder
 * (src/worker/dataset) reads it; this file is the one place both agree on it.
 */

export const LogStreams = ['predictions', 'feedback'] as const;
export type LogStream = (typeof LogStreams)[number];

export const BATCH_SUFFIX = '.jsonl';

export function streamPrefix(logUri: string, stream: LogStream): string {
  return joinUri(logUri, stream);
}

export function imagesPrefix(logUri: string): string {
  return joinUri(logUri, 'images');
}

/** Key of a stored image relative to the log prefix. */
export function imageKey(sha256: string): string {
  return `images/${sha256}`;
}

export function signingKeyUri(logUri: string): string {
  return joinUri(logUri, 'keys/prediction-id.key');
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Name of a batch object relative to its stream prefix: partitioned by the UTC date and hour of
 * its first record, named by that time, the writer and a per-writer sequence number.
 */
export function batchObjectName(firstRecordAt: Date, writerId: string, sequence: number): string {
  const d = firstRecordAt;
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
  return `${day}/${pad(d.getUTCHours())}/${stamp}-${writerId}-${pad(sequence, 6)}${BATCH_SUFFIX}`;
}

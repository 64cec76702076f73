import { BATCH_SUFFIX, imageKey, imagesPrefix, streamPrefix } from '../../shared/prediction-log/layout.js';
import { parseBatch, type FeedbackRecord } from '../../shared/prediction-log/records.js';
import { isStorageError, joinUri, type Storage } from '../../shared/storage/index.js';
import { mapLimit } from './map-limit.js';

/** One labelled example from a prediction log: a stored image and the class a person gave it. */
export interface FeedbackExample {
  readonly sha256: string;
  /** The true class, from the feedback. */
  readonly label: string;
  /** What the model had said. */
  readonly predicted: string;
  /** The model version that made the prediction. */
  readonly version: string;
  /** When the feedback was given (RFC 3339). */
  readonly time: string;
  /** Where the image is stored. */
  readonly imageUri: string;
}

/** Why feedback records did not become examples, and what was read. */
export interface FeedbackStats {
  readonly objects: number;
  readonly records: number;
  /** Lines that were not feedback records (torn writes, foreign lines). */
  readonly invalidLines: number;
  /** Objects listed but gone or unreadable when read. */
  readonly unreadableObjects: number;
  /** Records outside the filters (another model, before `since`). */
  readonly filteredOut: number;
  /** Earlier feedback on a prediction that got later feedback (the latest wins). */
  readonly superseded: number;
  /** Feedback on an image that later feedback (on another prediction of the same image) labelled differently. */
  readonly conflicting: number;
  /** Confirmations left out by `wrongOnly`. */
  readonly confirmations: number;
  /** Examples whose image was not sampled (or not written). */
  readonly withoutImage: number;
}

export interface CollectOptions {
  /** Only feedback on this model's predictions. */
  readonly model?: string;
  /** Only feedback given at or after this time. */
  readonly since?: Date;
  /** Only corrections (the model was wrong); default: every piece of feedback. */
  readonly wrongOnly?: boolean;
  readonly concurrency?: number;
}

/**
 * Turns a prediction log's feedback into labelled examples: reads every feedback batch under
 * `<log>/feedback/`, keeps the latest feedback per prediction (a person may correct twice, on
 * two replicas) and then the latest per image (the same photo predicted twice and labelled
 * differently: the later word wins, and the conflict is counted), and keeps the examples whose
 * image was stored (`<log>/images/<sha256>`, sampled at serving time). Sorted by class, then
 * image hash, so the same log gives the same list.
 */
export async function collectFeedbackExamples(logUri: string, storage: Storage, options: CollectOptions = {}): Promise<{ examples: FeedbackExample[]; stats: FeedbackStats }> {
  const objects = (await storage.list(streamPrefix(logUri, 'feedback'))).filter((e) => e.name.endsWith(BATCH_SUFFIX));
  let invalidLines = 0;
  let unreadableObjects = 0;
  const batches = await mapLimit(objects, options.concurrency ?? 8, async (o) => {
    try {
      const parsed = parseBatch('feedback', (await storage.read(o.uri)).toString('utf8'));
      invalidLines += parsed.invalid;
      return parsed.records;
    } catch (err) {
      if (!isStorageError(err, 'NotFound')) throw err;
      unreadableObjects++;
      return [];
    }
  });
  const all = batches.flat();
  const since = options.since?.getTime();
  const wanted = all.filter((r) => (options.model === undefined || r.model === options.model) && (since === undefined || Date.parse(r.time) >= since));
  const latestPerPrediction = latestBy(wanted, (r) => r.id);
  const latestPerImage = latestBy(latestPerPrediction, (r) => r.image.sha256);
  const labelsPerImage = new Map<string, Set<string>>();
  for (const r of latestPerPrediction) labelsPerImage.set(r.image.sha256, (labelsPerImage.get(r.image.sha256) ?? new Set()).add(r.label));
  const conflicting = [...labelsPerImage.values()].filter((s) => s.size > 1).length;
  const chosen = options.wrongOnly ? latestPerImage.filter((r) => !r.correct) : latestPerImage;
  const stored = new Set((await storage.list(imagesPrefix(logUri))).map((e) => e.name));
  const examples = chosen
    .filter((r) => stored.has(r.image.sha256))
    .map((r) => ({ sha256: r.image.sha256, label: r.label, predicted: r.predicted, version: r.version, time: r.time, imageUri: joinUri(logUri, imageKey(r.image.sha256)) }))
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  return {
    examples,
    stats: {
      objects: objects.length,
      records: all.length,
      invalidLines,
      unreadableObjects,
      filteredOut: all.length - wanted.length,
      superseded: wanted.length - latestPerPrediction.length,
      conflicting,
      confirmations: latestPerImage.length - chosen.length,
      withoutImage: chosen.length - examples.length,
    },
  };
}

/** The latest record (by time, then by id for a stable tie-break) for each key. */
function latestBy(records: readonly FeedbackRecord[], key: (r: FeedbackRecord) => string): FeedbackRecord[] {
  const latest = new Map<string, FeedbackRecord>();
  for (const r of records) {
    const k = key(r);
    const seen = latest.get(k);
    if (!seen || r.time > seen.time || (r.time === seen.time && r.id > seen.id)) latest.set(k, r);
  }
  return [...latest.values()];
}

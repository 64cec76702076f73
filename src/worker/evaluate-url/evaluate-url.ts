import path from 'node:path';
import type { Storage } from '../../shared/storage/index.js';
import { listDataset } from '../dataset/list-dataset.js';
import { mapLimit } from '../dataset/map-limit.js';
import type { EvaluateUrlOptions } from './options.js';
import type { PredictClient } from './predict-client.js';
import { summarize, type EvaluateUrlReport, type PhotoResult } from './summarize.js';

export interface EvaluateUrlDeps {
  /** Storage that serves `options.data`. */
  readonly storage: Storage;
  readonly predict: PredictClient;
  /** Called after each photo, for progress output. */
  readonly onResult?: (done: number, total: number, result: PhotoResult) => void;
}

/**
 * The post-deployment check: lists the labeled photos under `options.data` (a folder per
 * class), sends each to the service with at most `options.concurrency` requests in flight, and
 * summarizes what came back against the folder labels. Photos are read from storage just before
 * they are sent, so memory stays bounded by the concurrency, not the dataset.
 */
export async function evaluateUrl(options: EvaluateUrlOptions, deps: EvaluateUrlDeps): Promise<EvaluateUrlReport> {
  const listing = await listDataset(options.data, deps.storage, options.classes);
  const perClass = new Map<number, number>();
  const files = listing.files.filter((f) => {
    const n = (perClass.get(f.classIndex) ?? 0) + 1;
    perClass.set(f.classIndex, n);
    return options.limitPerClass === undefined || n <= options.limitPerClass;
  });
  const started = performance.now();
  let done = 0;
  const results = await mapLimit(files, options.concurrency, async (file): Promise<PhotoResult> => {
    const expected = listing.classes[file.classIndex] as string;
    const bytes = await deps.storage.read(file.uri);
    const outcome = await deps.predict(bytes, path.posix.basename(file.name));
    const result = { name: file.name, expected, outcome };
    deps.onResult?.(++done, files.length, result);
    return result;
  });
  return summarize({ url: options.url, data: options.data, classes: listing.classes, results, elapsedMs: performance.now() - started });
}

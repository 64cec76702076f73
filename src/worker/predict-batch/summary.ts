import type { BatchCounts, BatchFailedImage, BatchResultLine, BatchShardSummary, BatchSummary } from '../../shared/api/batch-report.js';

/** Failures a summary lists by name; beyond that it counts them (the JSON Lines list every one). */
export const MAX_LISTED_FAILURES = 10_000;

/** Counts of a shard's lines: classified, failed, per label, and the failures by name. */
export function countLines(lines: readonly BatchResultLine[], classes: readonly string[]): BatchCounts {
  const perClass: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  const failures: BatchFailedImage[] = [];
  let predicted = 0;
  for (const line of lines) {
    if ('error' in line) failures.push({ path: line.path, reason: line.error.reason, message: line.error.message });
    else {
      predicted++;
      perClass[line.label] = (perClass[line.label] ?? 0) + 1;
    }
  }
  return capFailures({ images: lines.length, predicted, failed: failures.length, perClass, failures });
}

function capFailures(counts: BatchCounts): BatchCounts {
  if (counts.failures.length <= MAX_LISTED_FAILURES) return counts;
  return { ...counts, failures: counts.failures.slice(0, MAX_LISTED_FAILURES), failuresTruncated: true };
}

/** The batch's summary from every shard's, in shard order. */
export function mergeSummaries(shardSummaries: readonly BatchShardSummary[], context: Pick<BatchSummary, 'input' | 'model' | 'shards'>): BatchSummary {
  const sorted = [...shardSummaries].sort((a, b) => a.shard - b.shard);
  const perClass: Record<string, number> = Object.fromEntries(context.model.classes.map((c) => [c, 0]));
  let images = 0;
  let predicted = 0;
  let failed = 0;
  let truncated = false;
  const failures: BatchFailedImage[] = [];
  for (const s of sorted) {
    images += s.images;
    predicted += s.predicted;
    failed += s.failed;
    truncated ||= s.failuresTruncated === true;
    failures.push(...s.failures);
    for (const [label, n] of Object.entries(s.perClass)) perClass[label] = (perClass[label] ?? 0) + n;
  }
  const counts = capFailures({ images, predicted, failed, perClass, failures });
  return {
    ...context,
    ...counts,
    ...(truncated ? { failuresTruncated: true } : {}),
    files: sorted.map((s) => s.file),
  };
}

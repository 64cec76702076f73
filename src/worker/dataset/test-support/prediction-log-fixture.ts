import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { batchObjectName, imageKey } from '../../../shared/prediction-log/layout.js';
import type { FeedbackRecord } from '../../../shared/prediction-log/records.js';
import { joinUri, type Storage } from '../../../shared/storage/index.js';

/** A feedback record with defaults, for tests. */
export function feedbackRecord(over: Partial<FeedbackRecord> & { id: string; sha256: string; label: string }): FeedbackRecord {
  const { sha256, ...rest } = over;
  return {
    kind: 'feedback',
    time: '2026-11-20T10:00:00.000Z',
    predictedAt: '2026-11-20T09:59:00.000Z',
    model: 'pets',
    version: '3',
    predicted: 'cat',
    correct: over.label === (over.predicted ?? 'cat'),
    image: { sha256 },
    writer: 'pod-a-000000',
    servedVersion: '3',
    ...rest,
  };
}

/** A small decodable JPEG of one flat shade with noise; returns its bytes and sha256. */
export async function testImage(shade: number, seed: number): Promise<{ bytes: Buffer; sha256: string }> {
  const side = 16;
  const raw = Buffer.alloc(side * side * 3);
  let s = seed + 1;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    raw[i] = Math.max(0, Math.min(255, shade + ((s >>> 8) % 40) - 20));
  }
  const bytes = await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Writes a prediction log as `kennel serve` lays it out (src/shared/prediction-log/layout.ts):
 * the feedback records in one batch object per call, and the given images, content-addressed.
 */
export async function writeFeedbackLog(storage: Storage, logUri: string, records: readonly (FeedbackRecord | string)[], images: readonly Buffer[], batch = 0): Promise<void> {
  const lines = records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
  await storage.write(joinUri(logUri, `feedback/${batchObjectName(new Date('2026-11-20T10:00:00Z'), 'pod-a-000000', batch)}`), `${lines}\n`);
  for (const img of images) await storage.write(joinUri(logUri, imageKey(createHash('sha256').update(img).digest('hex'))), img);
}

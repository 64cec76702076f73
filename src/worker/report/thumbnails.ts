import sharp from 'sharp';
import type { Logger } from '../../shared/logger.js';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import type { ConfidentMistake } from './confident-mistakes.js';

/** Side of a thumbnail in pixels (square, cropped to cover). */
export const THUMBNAIL_SIZE = 160;

/** Where the image of a mistake came from: its original file, and the decoded pixels as a fallback. */
export interface ThumbnailSource {
  /** The original file's bytes, or undefined when it cannot be read any more. */
  readonly read: () => Promise<Buffer | undefined>;
  /** The image as the model saw it: side × side × 3 RGB bytes. */
  readonly pixels: Uint8Array;
  readonly side: number;
}

/** Report-relative path of the thumbnail of the n-th mistake (no user file name in the path). */
export const thumbnailPath = (n: number): string => `mistakes/${String(n + 1).padStart(2, '0')}.jpg`;

/**
 * A JPEG thumbnail of one image with sharp: the original file, turned upright by its EXIF
 * orientation and cropped to a square; the decoded pixels when the original cannot be read or
 * decoded (a file gone since training, a format sharp reads differently).
 */
export async function makeThumbnail(source: ThumbnailSource, logger?: Logger): Promise<Buffer> {
  const resize = { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: 'cover' } as const;
  try {
    const bytes = await source.read();
    if (bytes) return await sharp(bytes, { failOn: 'error' }).rotate().resize(resize).jpeg({ quality: 82 }).toBuffer();
  } catch (err) {
    logger?.warn({ err: (err as Error).message }, 'thumbnail from the original file failed; using the decoded pixels');
  }
  return sharp(Buffer.from(source.pixels), { raw: { width: source.side, height: source.side, channels: 3 } }).resize(resize).jpeg({ quality: 82 }).toBuffer();
}

/** Writes one thumbnail per mistake under `<reportUri>/mistakes/`, in order; returns their report-relative paths. */
export async function writeThumbnails(storage: Storage, reportUri: string, sources: readonly ThumbnailSource[], logger?: Logger): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, source] of sources.entries()) {
    const path = thumbnailPath(i);
    await storage.write(joinUri(reportUri, path), await makeThumbnail(source, logger), { contentType: 'image/jpeg' });
    paths.push(path);
  }
  return paths;
}

/** The thumbnail source of each mistake, from the test split it indexes. */
export function mistakeSources(
  mistakes: readonly ConfidentMistake[],
  split: { readonly pixels: Uint8Array; readonly imageSize: number; readonly uris: readonly string[] },
  storageFor: (uri: string) => Storage,
): ThumbnailSource[] {
  const frame = split.imageSize * split.imageSize * 3;
  return mistakes.map((m) => {
    const uri = split.uris[m.index];
    return {
      read: async () => (uri === undefined ? undefined : storageFor(uri).read(uri)),
      pixels: split.pixels.subarray(m.index * frame, (m.index + 1) * frame),
      side: split.imageSize,
    };
  });
}

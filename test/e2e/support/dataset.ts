import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared photos beside the repository (never copied into it). */
export const PHOTOS_DIR = fileURLToPath(new URL('../../../../shared/datasets/cats-dogs/', import.meta.url));

export function photosPresent(): boolean {
  return existsSync(path.join(PHOTOS_DIR, 'cat')) && existsSync(path.join(PHOTOS_DIR, 'dog'));
}

/** A class-per-folder view of `photos` under `dir`, made of symbolic links (the photos are not copied). */
export async function linkPhotos(dir: string, photos: Readonly<Record<string, readonly string[]>>): Promise<void> {
  for (const [c, files] of Object.entries(photos)) {
    await mkdir(path.join(dir, c), { recursive: true });
    for (const f of files) await symlink(f, path.join(dir, c, path.basename(f)));
  }
}

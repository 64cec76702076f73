import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/ship/paths.ts). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

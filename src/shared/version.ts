import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The package version, read once from package.json beside the source or the build output. */
export function codeVersion(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  cached = `${pkg.version}${process.env.KENNEL_GIT_SHA ? `+${process.env.KENNEL_GIT_SHA.slice(0, 12)}` : ''}`;
  return cached;
}

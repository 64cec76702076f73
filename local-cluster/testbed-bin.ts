import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { testbedBinDir, type TestbedBinary } from '../scripts/testbed/layout.js';

export type { TestbedBinary };

/**
 * The path of a test bed binary built by `npm run testbed:build`. Throws, naming the command to
 * run, when the binary is absent, so that a test never silently skips or runs against something
 * else found on PATH.
 */
export function testbedBin(name: TestbedBinary): string {
  const path = join(testbedBinDir(), name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`test bed binary ${name} is missing at ${path}: run \`npm run testbed:build\` first`);
  }
  return path;
}

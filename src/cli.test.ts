import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

describe('kennel cli', () => {
  it('prints the package version', () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--import', 'tsx', cli, '--version'], { encoding: 'utf8' });
    expect(out.trim()).to.match(/^\d+\.\d+\.\d+/);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runCommand, type CommandRun } from '../test/harness/command-run.js';
import { ProcessTree } from '../test/harness/process-tree.js';

const command = fileURLToPath(new URL('./test-support/shutdown-command.ts', import.meta.url));

interface Run extends CommandRun {
  readonly tree: ProcessTree;
}

/**
 * Real processes: a command that owns its shutdown (test-support/shutdown-command.ts, shaped like
 * `npm run demo`) with managed children, signalled the way a wrapper or a supervisor does it — to
 * its pid alone, never to its process group.
 */
describe('local cluster: one owner for a command’s shutdown', function () {
  this.timeout(30_000);
  let dir: string;
  const runs: Run[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-shutdown-'));
  });
  after(async () => {
    for (const r of runs) r.tree.killSurvivors();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the command and resolves once its children are up. */
  const start = async (...flags: string[]): Promise<Run> => {
    const started = runCommand(command, [dir, ...flags]);
    const tree = new ProcessTree([started.pid]);
    const run = { ...started, tree };
    runs.push(run);
    const deadline = Date.now() + 20_000;
    while (!/^ready( \d+)+$/m.test(run.output())) {
      if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`the command did not get ready:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    tree.sample();
    return run;
  };

  const children = (r: Run): number[] => (/^ready((?: \d+)+)$/m.exec(r.output())?.[1] ?? '').trim().split(' ').map(Number);

  it('on SIGINT then SIGTERM to its pid alone: stops every child, last started first, once, and exits 130', async () => {
    const r = await start();
    expect(children(r)).to.have.length(3);
    expect(r.tree.recorded().map((p) => p.pid)).to.include.members(children(r));
    r.child.kill('SIGINT');
    await new Promise((res) => setTimeout(res, 100));
    r.child.kill('SIGTERM');
    const exit = await r.exited;
    expect(exit, r.output()).to.deep.equal({ code: 130, signal: null });
    const lines = r.output().split('\n');
    expect(lines.filter((l) => /^stopp/.test(l))).to.deep.equal(['stopping (SIGINT)', 'stopped stubborn', 'stopped sleeper']);
    expect(r.tree.recorded().some((p) => p.pid === children(r)[2]), 'the adopted plain child').to.equal(true);
    expect(r.output()).to.match(/SIGTERM: already stopping \(after SIGINT\)/);
    expect(await r.tree.survivorsAfter(5_000)).to.deep.equal([]);
  });

  it('on SIGHUP (a closed terminal) alike, exiting 129', async () => {
    const r = await start();
    r.child.kill('SIGHUP');
    expect(await r.exited).to.deep.equal({ code: 129, signal: null });
    expect(r.output()).to.contain('stopped sleeper');
    expect(await r.tree.survivorsAfter(5_000)).to.deep.equal([]);
  });

  it('kills what is left when a stop outlasts the grace period', async () => {
    const r = await start('--hang');
    const t0 = Date.now();
    r.child.kill('SIGTERM');
    expect(await r.exited).to.deep.equal({ code: 143, signal: null });
    expect(Date.now() - t0).to.be.within(1_500, 10_000);
    expect(r.output()).to.contain('stopping took over 2s: killing what is left');
    expect(r.output()).to.not.contain('stopped sleeper');
    expect(await r.tree.survivorsAfter(5_000)).to.deep.equal([]);
  });

  it('without an owner (a test process), the exit hooks kill every child and the process dies of the signal', async () => {
    const r = await start('--no-owner');
    r.child.kill('SIGTERM');
    expect(await r.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(await r.tree.survivorsAfter(5_000)).to.deep.equal([]);
  });
});

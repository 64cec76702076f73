import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runCommand, type CommandRun } from '../../harness/command-run.js';
import { ProcessTree } from '../../harness/process-tree.js';

const cluster = fileURLToPath(new URL('../../../scripts/testbed/cluster.ts', import.meta.url));

/**
 * `npm run cluster:up` / `cluster:down` as a person runs them: `up` owns the daemon it starts
 * until the cluster is up (interrupted before that, it stops it); `down` stops the daemon and
 * everything it started. No process of either survives.
 */
describe('local cluster: cluster:up and cluster:down', function () {
  this.timeout(240_000);
  let dir: string;
  const trees: ProcessTree[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-cluster-'));
  });
  after(async () => {
    for (const t of trees) {
      t.stopSampling();
      t.killSurvivors();
    }
    await rm(dir, { recursive: true, force: true });
  });

  const run = (action: 'up' | 'down'): CommandRun => runCommand(cluster, [action], { env: { ...process.env, KENNEL_CLUSTER_DIR: dir } });
  const daemonPid = (out: string): number => Number(/daemon pid (\d+)/.exec(out)?.[1] ?? -1);

  it('up, interrupted by SIGINT to its pid alone while the cluster starts, stops the daemon and all it started', async () => {
    const up = run('up');
    const t = new ProcessTree([up.pid]);
    trees.push(t);
    t.startSampling(200);
    const deadline = Date.now() + 60_000;
    while (!t.recorded().some((p) => /\bkube-apiserver\b/.test(p.cmdline))) {
      if (Date.now() > deadline) throw new Error(`the daemon did not start kube-apiserver:\n${up.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const daemon = daemonPid(up.output());
    t.addRoot(daemon);
    process.kill(up.pid, 'SIGINT');
    const exit = await up.exited;
    t.sample();
    expect(exit, up.output()).to.deep.equal({ code: 130, signal: null });
    expect(up.output()).to.contain('cluster up: SIGINT: stopping the cluster it was starting');
    const left = await t.survivorsAfter(40_000);
    t.stopSampling();
    expect(left.map((p) => `${p.pid} ${p.cmdline}`)).to.deep.equal([]);
    expect(existsSync(path.join(dir, 'ready.json'))).to.equal(false);
    expect(existsSync(path.join(dir, 'daemon.pid'))).to.equal(false);
  });

  it('up leaves a running cluster behind, and down stops all of it', async () => {
    const up = run('up');
    const t = new ProcessTree([up.pid]);
    trees.push(t);
    t.startSampling(200);
    const upExit = await up.exited;
    expect(upExit, up.output()).to.deep.equal({ code: 0, signal: null });
    expect(up.output()).to.contain('Kennel local cluster is up');
    const info = JSON.parse(readFileSync(path.join(dir, 'ready.json'), 'utf8')) as { pid: number; kubeconfigPath: string };
    t.addRoot(info.pid);
    t.sample();
    const running = t.survivors().map((p) => p.cmdline);
    for (const what of [/kube-apiserver/, /etcd/, /kube-controller-manager/, /fake-gcs-server/]) {
      expect(running.some((c) => what.test(c)), `${what} still running after up returned`).to.equal(true);
    }

    const down = run('down');
    expect(await down.exited, down.output()).to.deep.equal({ code: 0, signal: null });
    expect(down.output()).to.contain('Kennel local cluster stopped');
    const left = await t.survivorsAfter(10_000);
    t.stopSampling();
    expect(left.map((p) => `${p.pid} ${p.cmdline}`)).to.deep.equal([]);
    expect(existsSync(path.join(dir, 'ready.json'))).to.equal(false);
  });
});

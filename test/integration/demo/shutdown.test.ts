import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { runCommand } from '../../harness/command-run.js';
import { ProcessTree } from '../../harness/process-tree.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const demo = fileURLToPath(new URL('../../../scripts/demo.ts', import.meta.url));
const cliPath = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

/** The interface index of a network link, or undefined when there is none of that name. */
function ifindex(name: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Issue 18: `npm run demo` interrupted by signals to its own pid alone (as a wrapper script,
 * `timeout -s INT` or a supervisor sends them; Ctrl-C in a terminal reaches the whole process
 * group and hid the problem) left its `kennel operator` running, adopted by init. The demo runs
 * for real with a tiny generated dataset, and is interrupted while everything is up: the control
 * plane, the GCS emulator, the node agent with a training pod, and the operator.
 */
describe('npm run demo: interrupted by signals to its pid alone', function () {
  this.timeout(600_000);
  let tree: ProcessTree | undefined;

  after(() => {
    tree?.stopSampling();
    tree?.killSurvivors();
  });

  it('on SIGINT and then SIGTERM stops every process it started and removes its state and pod network', async () => {
    if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` before the integration tests`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KENNEL_TESTBED_KEEP'));
    const { child, pid, output, exited } = runCommand(demo, ['--per-class', '40', '--epochs', '30'], { cwd: repo, env });
    const t = new ProcessTree([pid]);
    tree = t;
    t.startSampling(250);

    // Everything up: the training pod runs (the operator made its Job, the node agent runs it).
    const deadline = Date.now() + 480_000;
    while (!/TrainingRun\/demo-1: Running/.test(output()) || !t.recorded().some((p) => / train\b/.test(p.cmdline))) {
      if (child.exitCode !== null) throw new Error(`the demo ended before its TrainingRun ran:\n${output()}`);
      if (Date.now() > deadline) throw new Error(`the demo's TrainingRun did not run in time:\n${output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const dir = /state and logs in (\S+)/.exec(output())?.[1] ?? '';
    expect(existsSync(dir), `state directory ${dir}`).to.equal(true);
    const server = (parse(readFileSync(`${dir}/kubeconfig`, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0]?.cluster.server ?? '';
    const subnet = /^https:\/\/10\.244\.(\d+)\.1:/.exec(server)?.[1];
    const bridge = subnet ? `knbr${subnet}` : undefined;
    const bridgeIndex = bridge ? ifindex(bridge) : undefined;
    const commands = t.recorded().map((p) => p.cmdline);
    for (const what of [/cli\.js operator/, / train\b/, /kube-apiserver/, /etcd/, /kube-controller-manager/, /fake-gcs-server/]) {
      expect(commands.some((c) => what.test(c)), `a running process matching ${what} among:\n${commands.join('\n')}`).to.equal(true);
    }

    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    const exit = await exited;
    t.sample();
    t.stopSampling();

    const survivors = await t.survivorsAfter(15_000);
    expect(survivors.map((p) => `${p.pid} ${p.cmdline}`), output()).to.deep.equal([]);
    expect(exit, output()).to.deep.equal({ code: 130, signal: null });
    expect(output()).to.contain('tearing down (SIGINT)');
    expect(output()).to.match(/SIGTERM: already stopping \(after SIGINT\)/);
    expect(output()).to.match(/done\.\n/);
    expect(existsSync(dir), `state directory ${dir} removed`).to.equal(false);
    // The bridge is gone (a concurrent test bed may have made a new one of that name since).
    if (bridge) expect(ifindex(bridge) === undefined || ifindex(bridge) !== bridgeIndex, `bridge ${bridge} removed`).to.equal(true);
  });
});

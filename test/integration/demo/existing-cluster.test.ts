import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { testbedBin } from '../../../local-cluster/index.js';
import { runCommand } from '../../harness/command-run.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const demo = fileURLToPath(new URL('../../../scripts/demo.ts', import.meta.url));
const cluster = fileURLToPath(new URL('../../../scripts/testbed/cluster.ts', import.meta.url));
const cliPath = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

// Images named as a user would after building and loading them: only the flags say which they are
// (the node agent runs kennel-operator / kennel-worker images from dist/cli.js, whatever the registry and tag).
const OPERATOR_IMAGE = 'localhost:5000/kennel-operator:existing-cluster-test';
const WORKER_IMAGE = 'localhost:5000/kennel-worker:existing-cluster-test';

function run(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, [...args], { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${bin} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

/**
 * Issue 14, item 10: `npm run demo -- --kubeconfig` on a cluster that already exists. The
 * cluster is the local one started separately by `npm run cluster:up` (its own daemon, its own
 * state directory), which the demo knows only through the kubeconfig and the flags: it installs
 * the chart with Helm, as a user would, with the images given, trains through the chart's
 * operator and predicts through the API server's service proxy.
 */
describe('npm run demo -- --kubeconfig: an existing cluster, installed through the Helm chart', function () {
  this.timeout(900_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` before the integration tests`);
    dir = await mkdtemp(join(tmpdir(), 'kennel-existing-cluster-'));
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KENNEL_TESTBED_KEEP')),
      KENNEL_CLUSTER_DIR: dir,
      // The tools a user has; here the test bed's builds, whatever else is on PATH.
      KENNEL_HELM: testbedBin('helm'),
      KENNEL_KUBECTL: testbedBin('kubectl'),
    };
    const up = runCommand(cluster, ['up'], { cwd: repo, env });
    const { code } = await up.exited;
    if (code !== 0) throw new Error(`npm run cluster:up failed:\n${up.output()}`);
  });

  after(async function () {
    if (!dir) return;
    const down = runCommand(cluster, ['down'], { cwd: repo, env });
    await down.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('installs the chart with the given images, trains, serves and answers predictions; the release stays', async function () {
    const info = JSON.parse(readFileSync(join(dir, 'ready.json'), 'utf8')) as { kubeconfigPath: string; gcsEndpoint: string };
    const args = [
      '--kubeconfig', info.kubeconfigPath,
      '--operator-image', OPERATOR_IMAGE,
      '--worker-image', WORKER_IMAGE,
      '--gcs-endpoint', info.gcsEndpoint,
      '--namespace', 'pets',
      '--per-class', '20',
      '--epochs', '1',
    ];
    const first = runCommand(demo, args, { cwd: repo, env });
    const { code } = await first.exited;
    const out = first.output();
    expect(code, out).to.equal(0);
    expect(out).to.match(/STATUS: deployed, REVISION: 1/);
    // One held-back image per class, each answered through the API server's service proxy.
    const answers = [...out.matchAll(/^ {2}(\S+)-\d+\.jpg \(a (\S+)\) → (\S+) \(confidence ([\d.]+)\)$/gm)];
    expect(answers.map((m) => m[2]).sort(), out).to.deep.equal(['horizontal', 'vertical']);
    expect(out).to.include('2 predictions answered');

    // The release is the chart's, installed by Helm, with the images of the flags.
    const kubectl = (...a: string[]) => run(testbedBin('kubectl'), ['--kubeconfig', info.kubeconfigPath, ...a]);
    const releases = JSON.parse(await run(testbedBin('helm'), ['list', '-n', 'kennel-system', '--kubeconfig', info.kubeconfigPath, '-o', 'json'], env)) as { name: string; status: string; chart: string }[];
    expect(releases).to.have.length(1);
    expect(releases[0]).to.include({ name: 'kennel', status: 'deployed', chart: 'kennel-0.1.0' });
    const operator = JSON.parse(await kubectl('get', 'deployment', 'kennel', '-n', 'kennel-system', '-o', 'json')) as {
      spec: { template: { spec: { containers: { image: string; env?: { name: string; value?: string }[] }[] } } };
      status: { readyReplicas?: number };
    };
    const container = operator.spec.template.spec.containers[0];
    expect(container?.image).to.equal(OPERATOR_IMAGE);
    expect(operator.status.readyReplicas).to.equal(1);
    const serving = JSON.parse(await kubectl('get', 'deployments', '-n', 'pets', '-l', 'kennel.dev/inference-service=demo', '-o', 'json')) as {
      items: { spec: { template: { spec: { containers: { image: string }[] } } } }[];
    };
    expect(serving.items.map((d) => d.spec.template.spec.containers[0]?.image)).to.deep.equal([WORKER_IMAGE]);
    const isvc = JSON.parse(await kubectl('get', 'inferenceservices.kennel.dev', 'demo', '-n', 'pets', '-o', 'json')) as { status: { phase: string } };
    expect(isvc.status.phase).to.equal('Ready');
  });

  it('says what is missing when an image flag is left out, before touching the cluster', async function () {
    const info = JSON.parse(readFileSync(join(dir, 'ready.json'), 'utf8')) as { kubeconfigPath: string; gcsEndpoint: string };
    const bad = runCommand(demo, ['--kubeconfig', info.kubeconfigPath, '--operator-image', OPERATOR_IMAGE, '--gcs-endpoint', info.gcsEndpoint], { cwd: repo, env });
    const { code } = await bad.exited;
    expect(code).to.equal(1);
    expect(bad.output()).to.match(/--kubeconfig needs --worker-image/);
    const releases = JSON.parse(await run(testbedBin('helm'), ['list', '-n', 'kennel-system', '--kubeconfig', info.kubeconfigPath, '-o', 'json'], env)) as { revision: string }[];
    expect(releases.map((r) => r.revision)).to.deep.equal(['1']);
  });
});

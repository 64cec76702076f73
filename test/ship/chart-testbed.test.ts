import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startTestbed, testbedBin, type Testbed } from '../../local-cluster/index.js';
import { thirdPartyCrdDir } from '../../local-cluster/install-crds.js';
import { chartDir, helmTemplateRaw, runHelm, withValuesFile } from './helm.js';
import { repoRoot } from './paths.js';

/**
 * The chart against the test bed's real kube-apiserver: every rendered object passes a
 * server-side dry-run (admission, schema, strict field validation), and `helm install` brings up
 * an operator — run as a process by the node agent, with the chart's ServiceAccount token and so
 * with exactly the chart's RBAC — that becomes Ready and reconciles a TrainingRun.
 */

const NS = 'kennel-system';
const RELEASE = 'kennel';

type Condition = { type: string; status: string; reason?: string; message?: string };
type PodList = { items: { metadata: { name: string }; status?: { phase?: string; conditions?: Condition[] } }[] };

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('Helm chart in the test bed (real kube-apiserver, node agent)', function () {
  this.timeout(300_000);
  let tb: Testbed;

  before(async function () {
    if (!existsSync(join(repoRoot, 'dist', 'cli.js'))) {
      throw new Error('dist/cli.js is missing: the node agent runs the built CLI; run `npm run build` first');
    }
    // Only the PodMonitoring CRD of the local cluster: Kennel's CRDs must come from the chart.
    tb = await startTestbed({ crdDirs: [thirdPartyCrdDir] });
    await tb.kubectl(['create', 'namespace', NS]);
    await tb.kubectl(['create', 'namespace', 'team-a']);
  });

  after(async function () {
    await tb?.stop();
  });

  it('server-side dry-run accepts every object the chart renders with all options on', async function () {
    const rendered = await helmTemplateRaw({
      storage: { artifactRoot: 'gs://kennel-ship/kennel' },
      operator: { watchNamespaces: ['team-a'] },
      workloads: { serviceAccount: { gcpServiceAccount: 'kennel-worker@my-project.iam.gserviceaccount.com' } },
      monitoring: { podMonitoring: { enabled: true }, grafanaDashboard: { enabled: true } },
      networkPolicy: { enabled: true, servingNamespaces: ['team-a'] },
      rbac: { extraRules: [{ apiGroups: ['kennel.dev'], resources: ['trainingruns/finalizers'], verbs: ['update'] }] },
    }, { extraArgs: ['--include-crds'] });
    expect(rendered.code, rendered.stderr).to.equal(0);
    const { stdout } = await tb.kubectl(['apply', '--server-side', '--dry-run=server', '--field-manager=kennel-ship-test', '-f', '-'], {
      input: rendered.stdout,
    });
    const applied = stdout.trim().split('\n');
    for (const kind of ['customresourcedefinition', 'deployment', 'clusterrole', 'rolebinding', 'podmonitoring', 'networkpolicy', 'configmap']) {
      expect(applied.some((line) => line.startsWith(`${kind}.`) || line.startsWith(`${kind}/`)), `${kind} in:\n${stdout}`).to.equal(true);
    }
    expect(applied.every((line) => /serverside-applied \(server dry run\)$/.test(line)), stdout).to.equal(true);
    expect(applied, 'the canary-analysis policy in the application namespace').to.include('networkpolicy.networking.k8s.io/kennel-canary-analysis serverside-applied (server dry run)');
  });

  it('server-side dry-run rejects an object with a wrong field (the check above has teeth)', async function () {
    const rendered = await helmTemplateRaw({ storage: { artifactRoot: 'gs://kennel-ship/kennel' } });
    const broken = rendered.stdout.replace('readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true');
    expect(broken).to.not.equal(rendered.stdout);
    const error = await tb.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: broken }).then(
      () => undefined,
      (err: unknown) => err as { stderr?: string },
    );
    expect(error, 'the API server accepted readOnlyRootFileSystem').to.not.equal(undefined);
    expect(error?.stderr).to.match(/readOnlyRootFileSystem/);
  });

  it('helm install: CRDs installed, operator pods Ready, a TrainingRun reconciled with the chart’s RBAC; uninstall keeps the CRDs', async function () {
    // Two replicas need a network namespace each (both listen on 8081); in loopback mode, one.
    const replicas = tb.network.mode === 'netns' ? 2 : 1;
    const values = {
      storage: { artifactRoot: 'gs://kennel-ship/kennel', gcs: { auth: 'emulator', endpoint: tb.gcsEndpoint } },
      operator: { replicas, leaderElection: { enabled: true }, logLevel: 'debug' },
      workloads: { serviceAccount: { extraNamespaces: ['default'] } },
      networkPolicy: { servingNamespaces: ['default'] },
    };
    const install = await withValuesFile(values, (file) =>
      runHelm(['install', RELEASE, chartDir, '--namespace', NS, '--kubeconfig', tb.kubeconfigPath, '-f', file, '--wait', '--timeout', '150s']),
    );
    expect(install.code, `${install.stdout}\n${install.stderr}\n(state: ${tb.dir})`).to.equal(0);
    expect(install.stdout).to.include('STATUS: deployed').and.to.include('kubectl apply -f');

    for (const crd of ['trainingruns.kennel.dev', 'modelversions.kennel.dev', 'inferenceservices.kennel.dev']) {
      await tb.kubectl(['get', 'crd', crd]);
    }

    const pods = JSON.parse(
      (await tb.kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=operator', '-o', 'json'])).stdout,
    ) as PodList;
    expect(pods.items).to.have.length(replicas);
    for (const pod of pods.items) {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status, `pod ${pod.metadata.name} Ready`).to.equal('True');
    }

    // The canary-analysis policy in the application namespace: the real API server finds the
    // operator's namespace and exactly the operator's pods by its peer's selectors (no CNI here
    // enforces it; test/ship/chart-canary-network-policy.test.ts matches its other side).
    const policy = JSON.parse((await tb.kubectl(['get', 'networkpolicy', 'kennel-canary-analysis', '-n', 'default', '-o', 'json'])).stdout) as {
      spec: { ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: { matchLabels: Record<string, string> } }[] }[] };
    };
    const peer = policy.spec.ingress[0]?.from[0];
    const selector = (labels: Record<string, string> = {}) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    const namespaces = (await tb.kubectl(['get', 'namespaces', '-l', selector(peer?.namespaceSelector.matchLabels), '-o', 'name'])).stdout.trim().split('\n');
    expect(namespaces).to.deep.equal([`namespace/${NS}`]);
    const peerPods = JSON.parse((await tb.kubectl(['get', 'pods', '-n', NS, '-l', selector(peer?.podSelector.matchLabels), '-o', 'json'])).stdout) as PodList;
    expect(peerPods.items.map((p) => p.metadata.name).sort()).to.deep.equal(pods.items.map((p) => p.metadata.name).sort());

    // One replica holds the Lease (the Role in the chart lets it).
    const holder = await until('the leader Lease', 60_000, async () => {
      const { stdout } = await tb.kubectl(['get', 'leases', '-n', NS, '-o', 'jsonpath={.items[*].spec.holderIdentity}']);
      return stdout.trim() || undefined;
    });
    expect(pods.items.some((p) => holder.startsWith(p.metadata.name)), `holder ${holder}`).to.equal(true);

    // A TrainingRun in a watched namespace: the operator (with the chart's ServiceAccount and
    // RBAC, nothing more) must report status and create the training Job.
    const run = {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name: 'ship-check', namespace: 'default' },
      spec: { model: 'ship-check', dataset: { uri: 'gs://kennel-ship/datasets/none' }, hyperparameters: { epochs: 1 } },
    };
    await tb.kubectl(['apply', '-f', '-'], { input: JSON.stringify(run) });
    const status = await until('the operator to report TrainingRun status with a Job', 90_000, async () => {
      const { stdout } = await tb.kubectl(['get', 'trainingrun', 'ship-check', '-n', 'default', '-o', 'json']);
      const s = (JSON.parse(stdout) as { status?: { phase?: string; jobName?: string; observedGeneration?: number } }).status;
      return s?.phase && s.jobName ? s : undefined;
    });
    expect(status.observedGeneration).to.equal(1);
    expect(status.phase).to.be.oneOf(['Pending', 'Running', 'Failed', 'Succeeded']);
    const job = JSON.parse((await tb.kubectl(['get', 'job', status.jobName ?? '', '-n', 'default', '-o', 'json'])).stdout) as {
      metadata: { ownerReferences?: { kind: string; name: string }[] };
      spec: { template: { spec: { serviceAccountName?: string; containers: { image: string }[] } } };
    };
    expect(job.metadata.ownerReferences?.[0]).to.deep.include({ kind: 'TrainingRun', name: 'ship-check' });
    expect(job.spec.template.spec.containers[0]?.image).to.equal('ghcr.io/kennel-dev/kennel-worker:0.1.0');
    expect(job.spec.template.spec.serviceAccountName, 'KENNEL_SERVICE_ACCOUNT from the chart').to.equal('kennel-workload');

    // The worker runs too (the node agent runs the kennel-worker image as `kennel train`), with the
    // storage settings the chart gave the operator: the dataset does not exist, and the run must
    // fail saying so rather than hang.
    const failed = await until('the training run to fail on the missing dataset', 120_000, async () => {
      const { stdout } = await tb.kubectl(['get', 'trainingrun', 'ship-check', '-n', 'default', '-o', 'json']);
      const s = (JSON.parse(stdout) as { status?: { phase?: string; conditions?: Condition[] } }).status;
      return s?.phase === 'Failed' ? s : undefined;
    });
    const readyCondition = failed.conditions?.find((c) => c.type === 'Ready');
    expect(readyCondition?.status).to.equal('False');
    expect(readyCondition?.reason, readyCondition?.message).to.equal('DatasetNotFound');

    const uninstall = await runHelm(['uninstall', RELEASE, '--namespace', NS, '--kubeconfig', tb.kubeconfigPath, '--wait']);
    expect(uninstall.code, uninstall.stderr).to.equal(0);
    await tb.kubectl(['get', 'crd', 'trainingruns.kennel.dev']);
    await tb.kubectl(['get', 'trainingrun', 'ship-check', '-n', 'default']);
  });

  it('kubectl kennel rollback / promote (examples/kubectl-plugin) edit an InferenceService the API server accepts', async function () {
    await tb.kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
    await tb.kubectl(['wait', '--for=condition=Established', 'crd/inferenceservices.kennel.dev', '--timeout=60s']);
    const isvc = {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: 'plugin-check', namespace: 'default' },
      spec: { model: 'cats-dogs', replicas: 1 },
    };
    await tb.kubectl(['apply', '-f', '-'], { input: JSON.stringify(isvc) });
    const plugin = (...args: string[]): Promise<{ code: number; out: string }> =>
      new Promise((resolve) => {
        execFile(
          'bash',
          [join(repoRoot, 'examples/kubectl-plugin/kubectl-kennel'), ...args, '-n', 'default'],
          { env: { ...process.env, KUBECTL: testbedBin('kubectl'), KUBECONFIG: tb.kubeconfigPath } },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
        );
      });

    const early = await plugin('rollback', 'plugin-check');
    expect(early.code, early.out).to.equal(1);
    expect(early.out).to.include('serves no version yet');

    const history = [
      { modelVersion: 'cats-dogs-v1', version: 1, from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', reason: 'Initial', message: 'first' },
      { modelVersion: 'cats-dogs-v2', version: 2, from: '2026-01-02T00:00:00Z', reason: 'Promoted', message: 'passed its gate' },
    ];
    await tb.kubectl(['patch', 'inferenceservice', 'plugin-check', '-n', 'default', '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ status: { currentModelVersion: 'cats-dogs-v2', history } })]);

    const rollback = await plugin('rollback', 'plugin-check');
    expect(rollback.code, rollback.out).to.equal(0);
    expect(rollback.out).to.include('pinned to cats-dogs-v1');
    const pinned = JSON.parse((await tb.kubectl(['get', 'inferenceservice', 'plugin-check', '-n', 'default', '-o', 'json'])).stdout) as {
      metadata: { annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(pinned.spec).to.deep.equal({ modelVersion: 'cats-dogs-v1', replicas: 1 });
    expect(pinned.metadata.annotations?.['kennel.dev/followed-model']).to.equal('cats-dogs');

    const promote = await plugin('promote', 'plugin-check');
    expect(promote.code, promote.out).to.equal(0);
    const following = JSON.parse((await tb.kubectl(['get', 'inferenceservice', 'plugin-check', '-n', 'default', '-o', 'json'])).stdout) as typeof pinned;
    expect(following.spec).to.deep.equal({ model: 'cats-dogs', replicas: 1 });
    expect(following.metadata.annotations?.['kennel.dev/followed-model']).to.equal(undefined);

    const status = await plugin('status', 'plugin-check');
    expect(status.out).to.include('serving:  cats-dogs-v2');
  });
});

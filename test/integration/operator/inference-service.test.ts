import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Testbed } from '../../../local-cluster/index.js';
import type { KubeClient, KubeObject } from '../../../src/operator/kube/client.js';
import { resourcePath, Resources } from '../../../src/operator/kube/resources.js';
import { isConflict } from '../../../src/operator/kube/errors.js';
import type { RunningOperator } from '../../../src/operator/main.js';
import { startServiceProxy } from '../../../local-cluster/service-proxy.js';
import { createTinyArtifact, loadPhotos, requirePhotos } from '../serve/helpers.js';
import { sigkillPod, startLoad } from './pod-kill.js';
import { createNamespace, list, startBed, startInProcess, waitFor, waitForStatus, type Phased } from './helpers.js';

type Obj = KubeObject & Phased;
type Isvc = Obj & {
  status?: Phased['status'] & {
    currentModelVersion?: string;
    targetModelVersion?: string;
    readyReplicas?: number;
    history?: Array<{ modelVersion: string; reason: string; to?: string; message: string }>;
    failedRollouts?: Array<{ modelVersion: string; reason: string }>;
    canary?: { modelVersion: string };
  };
};
const cond = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const distCli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const NS = 'serving';

function modelVersion(name: string, version: number, artifact: { uri: string; sha256: string }, accuracy: number, model = 'pets'): KubeObject {
  return {
    apiVersion: 'kennel.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name, namespace: NS },
    spec: {
      model,
      version,
      artifact: { uri: artifact.uri, format: 'tfjs-layers', sha256: artifact.sha256 },
      classes: ['cat', 'dog'],
      inputShape: [32, 32, 3],
      metrics: {
        accuracy,
        precision: accuracy,
        recall: accuracy,
        f1: accuracy,
        testImages: 100,
        perClass: { cat: { precision: accuracy, recall: accuracy, f1: accuracy, support: 50 }, dog: { precision: accuracy, recall: accuracy, f1: accuracy, support: 50 } },
        confusionMatrix: [
          [45, 5],
          [5, 45],
        ],
        confidenceHistogram: [0, 0, 0, 0, 0, 10, 10, 20, 30, 30],
        meanConfidence: 0.8,
      },
      lineage: { dataset: { uri: 'file:///data/pets', digest: 'sha256:x' }, codeVersion: 'test' },
    },
  };
}

/**
 * InferenceService rollouts against the real API server, Deployment controller and garbage
 * collector; the node runs the real `kennel serve` (from dist/) on a tiny real model, and its
 * readiness probe (/readyz: model loaded and warmed up) is what makes a pod ready.
 */
describe('operator: InferenceService', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let kube: KubeClient;
  let operator: RunningOperator;
  let artifact: { uri: string; sha256: string; cleanup: () => Promise<void> };

  before(async function () {
    this.timeout(240_000);
    if (!existsSync(distCli)) throw new Error(`${distCli} is missing: run \`npm run build\` first (the test bed's node runs the built \`kennel serve\`)`);
    const tiny = await createTinyArtifact();
    const sha256 = (JSON.parse(readFileSync(`${tiny.dir}/pets/v7/metadata.json`, 'utf8')) as { sha256: string }).sha256;
    artifact = { uri: tiny.uri, sha256, cleanup: tiny.cleanup };
    ({ bed, kube } = await startBed());
    await createNamespace(kube, NS);
    operator = await startInProcess(bed, { namespaces: [NS] });
  });
  after(async () => {
    await operator?.stop();
    kube?.close();
    await bed?.stop();
    await artifact?.cleanup();
  });

  it('a version that passed its gate rolls out; Ready only once the serving pods are ready', async () => {
    await kube.create(Resources.modelVersion, modelVersion('pets-v1', 1, artifact, 0.9));
    await waitForStatus<Obj>(kube, Resources.modelVersion, NS, 'pets-v1', (o) => o.status?.phase === 'Passed', 'pets-v1 to pass its gate');
    await kube.create(Resources.inferenceService, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: 'pets', namespace: NS },
      spec: { model: 'pets', replicas: 1, rollout: { strategy: 'Rolling', progressDeadlineSeconds: 120 } },
    });
    // Until the Deployment reports a ready pod, Ready must never be True.
    let sawNotReady = false;
    const isvc = await waitFor(
      async () => {
        const o = await kube.get<Isvc>(Resources.inferenceService, NS, 'pets');
        const deps = await list<KubeObject & { status?: { readyReplicas?: number } }>(kube, Resources.deployment, NS, 'kennel.dev/inference-service=pets');
        const readyPods = deps.reduce((n, d) => n + (d.status?.readyReplicas ?? 0), 0);
        if (cond(o, 'Ready')?.status === 'True') {
          expect(readyPods, 'Ready=True while no serving pod is ready').to.be.greaterThan(0);
          return o;
        }
        if (o?.status?.currentModelVersion) sawNotReady = true;
        return undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250, what: 'InferenceService pets to become Ready' },
    );
    expect(sawNotReady, 'the service reported its rollout before the pods were ready').to.equal(true);
    expect(isvc.status?.currentModelVersion).to.equal('pets-v1');
    expect(isvc.status?.phase).to.equal('Ready');
    expect(isvc.status?.history?.[0]).to.include({ modelVersion: 'pets-v1', reason: 'Initial' });
    expect(cond(isvc, 'PodMonitoring')?.status, 'the test bed installs the PodMonitoring CRD').to.equal('True');
    expect(await kube.get(Resources.service, NS, 'pets')).to.not.equal(undefined);
    expect(await kube.get(Resources.pdb, NS, 'pets')).to.not.equal(undefined);
    expect(await kube.get(Resources.podMonitoring, NS, 'pets')).to.not.equal(undefined);
    const url = await bed.serviceUrl(NS, 'pets', 'http');
    expect((await fetch(`${url}/readyz`)).status).to.equal(200);
    await waitForStatus<Obj>(kube, Resources.modelVersion, NS, 'pets-v1', (o) => o.status?.phase === 'Serving', 'pets-v1 to be Serving');
  });

  it('a second, better version replaces the first', async () => {
    await kube.create(Resources.modelVersion, modelVersion('pets-v2', 2, artifact, 0.95));
    const isvc = await waitForStatus<Isvc>(
      kube,
      Resources.inferenceService,
      NS,
      'pets',
      (o) => o.status?.currentModelVersion === 'pets-v2' && cond(o, 'Ready')?.status === 'True' && !o.status.canary,
      'pets-v2 to replace pets-v1',
      150_000,
    );
    const history = isvc.status?.history ?? [];
    expect(history.map((h) => [h.modelVersion, h.reason])).to.deep.equal([
      ['pets-v1', 'Initial'],
      ['pets-v2', 'Promoted'],
    ]);
    expect(history[0]?.to, 'v1 served until v2 took over').to.be.a('string');
    await waitFor(
      async () => {
        const deps = await list(kube, Resources.deployment, NS, 'kennel.dev/inference-service=pets');
        return deps.length === 1 && deps[0]?.metadata?.labels?.['kennel.dev/model-version'] === 'pets-v2' ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'the Deployment of pets-v1 to be removed' },
    );
    await waitForStatus<Obj>(kube, Resources.modelVersion, NS, 'pets-v1', (o) => o.status?.phase === 'Retired', 'pets-v1 Retired');
  });

  it('a version whose pods never get ready is rolled back, and the previous version keeps serving', async () => {
    // A user's edit: read, change, write back; the operator writes status meanwhile, so a stale
    // resourceVersion is a 409 and the edit is retried on the fresh object, as kubectl edit would.
    for (let attempt = 1; ; attempt++) {
      const current = (await kube.get<KubeObject & { spec: Record<string, unknown> }>(Resources.inferenceService, NS, 'pets'))!;
      try {
        await kube.replace(Resources.inferenceService, { ...current, spec: { ...current.spec, rollout: { strategy: 'Rolling', progressDeadlineSeconds: 15 } } });
        break;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
    await kube.create(Resources.modelVersion, modelVersion('pets-v3', 3, { uri: `${artifact.uri}-missing`, sha256: 'ee'.repeat(32) }, 0.97));
    await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'pets', (o) => o.status?.canary?.modelVersion === 'pets-v3', 'pets-v3 rollout to start', 30_000);
    const isvc = await waitForStatus<Isvc>(
      kube,
      Resources.inferenceService,
      NS,
      'pets',
      (o) => (o.status?.failedRollouts ?? []).some((f) => f.modelVersion === 'pets-v3'),
      'pets-v3 to be rolled back',
      60_000,
    );
    expect(isvc.status?.currentModelVersion).to.equal('pets-v2');
    expect(isvc.status?.canary).to.equal(undefined);
    expect(cond(isvc, 'Ready')).to.include({ status: 'True', reason: 'RolledBack' });
    expect(isvc.status?.history?.at(-1)).to.include({ modelVersion: 'pets-v3', reason: 'RolledBack' });
    expect(isvc.status?.failedRollouts?.[0]?.reason).to.equal('ProgressDeadlineExceeded');
    const url = await bed.serviceUrl(NS, 'pets', 'http');
    expect((await fetch(`${url}/readyz`)).status, 'pets-v2 still answers').to.equal(200);
    const metrics = await operator.registry.metrics();
    expect(metrics).to.include('kennel_operator_rollbacks_total{reason="ProgressDeadlineExceeded"} 1');
    const events = await list<KubeObject & { reason?: string; type?: string; involvedObject?: { name?: string } }>(kube, Resources.event, NS);
    expect(events.some((e) => e.involvedObject?.name === 'pets' && e.type === 'Warning' && e.reason === 'ProgressDeadlineExceeded')).to.equal(true);
  });

  it('a version below its threshold is Rejected and never served', async () => {
    await kube.create(Resources.modelVersion, modelVersion('pets-v4', 4, artifact, 0.5));
    const mv = await waitForStatus<Obj>(kube, Resources.modelVersion, NS, 'pets-v4', (o) => o.status?.phase !== undefined, 'pets-v4 gate');
    expect(mv.status?.phase).to.equal('Rejected');
    const isvc = (await kube.get<Isvc>(Resources.inferenceService, NS, 'pets'))!;
    expect(isvc.status?.currentModelVersion).to.equal('pets-v2');
    expect(isvc.status?.canary).to.equal(undefined);
    expect(isvc.status?.targetModelVersion).to.not.equal('pets-v4');
  });

  it('a serving pod SIGKILLed under load with two replicas: only requests caught by the dying pod fail, and capacity comes back', async function () {
    requirePhotos(this);
    for (let attempt = 1; ; attempt++) {
      const current = (await kube.get<KubeObject & { spec: Record<string, unknown> }>(Resources.inferenceService, NS, 'pets'))!;
      try {
        await kube.replace(Resources.inferenceService, { ...current, spec: { ...current.spec, replicas: 2 } });
        break;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
    type Pod = KubeObject & { status?: { conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] } };
    const podReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    const pods = () => list<Pod>(kube, Resources.pod, NS, 'kennel.dev/inference-service=pets');
    await waitFor(async () => ((await pods()).filter(podReady).length === 2 ? true : undefined), { timeoutMs: 120_000, what: 'two ready serving pods' });
    const proxy = await startServiceProxy({ kubeConfig: bed.kubeConfig, namespace: NS, service: 'pets', port: 'http' });
    try {
      await waitFor(async () => (proxy.endpoints().length === 2 ? true : undefined), { timeoutMs: 30_000, what: 'both pods behind the Service' });
      const [photo] = await loadPhotos(1);
      const rate = 20;
      const load = startLoad(`${proxy.url}/predict`, photo!.bytes, rate);
      await new Promise((r) => setTimeout(r, 3_000));
      const victim = (await pods()).find(podReady)!;
      const victimName = victim.metadata!.name!;
      const inFlightAtKill = load.inFlight();
      const killedAt = performance.now();
      sigkillPod(victimName);
      // Until when the dead pod is still routed to, and when two pods serve again.
      let unroutedAt: number | undefined;
      const back = await waitFor(
        async () => {
          if (unroutedAt === undefined && proxy.endpoints().length < 2) unroutedAt = performance.now();
          const now = await pods();
          const restarted = now.find((p) => p.metadata?.name === victimName)?.status?.containerStatuses?.[0]?.restartCount ?? 0;
          return now.filter(podReady).length === 2 && proxy.endpoints().length === 2 && (restarted > 0 || now.length > 2) ? performance.now() : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 100, what: 'capacity back: two ready pods behind the Service' },
      );
      await new Promise((r) => setTimeout(r, 2_000));
      await load.stop();
      const failed = load.results.filter((r) => !r.ok);
      const lastFailure = Math.max(...failed.map((r) => r.doneAt), killedAt);
      const figures = {
        requests: load.results.length,
        failed: failed.length,
        inFlightAtKill,
        failedSentBeforeKill: failed.filter((r) => r.sentAt < killedAt).length,
        deadPodRoutedForMs: unroutedAt === undefined ? undefined : Math.round(unroutedAt - killedAt),
        capacityBackAfterMs: Math.round(back - killedAt),
        lastFailureAfterKillMs: Math.round(lastFailure - killedAt),
        errors: [...new Set(failed.map((r) => r.error ?? `HTTP ${r.status}`))].slice(0, 3),
      };
      console.log(`      pod SIGKILL under ${rate} req/s: ${JSON.stringify(figures)}`);
      // Nothing fails before the kill, nor once the dead pod has left the Service.
      expect(failed.every((r) => r.doneAt >= killedAt), 'no failure before the kill').to.equal(true);
      const leftAt = unroutedAt ?? back;
      expect(failed.every((r) => r.sentAt <= leftAt + 500), 'no request sent after the dead pod left the Service fails').to.equal(true);
      // Those that fail: the ones in flight when the pod died, plus the ones routed to it before its endpoint went.
      expect(failed.length).to.be.at.most(inFlightAtKill + Math.ceil((rate / 2) * ((leftAt - killedAt) / 1000 + 0.5)));
      expect(load.results.filter((r) => r.sentAt > back).every((r) => r.ok), 'all succeed once capacity is back').to.equal(true);
    } finally {
      await proxy.stop();
    }
  });

  it('a canary rollout moves weight in steps, judged on the canary pods\' own metrics', async () => {
    await kube.create(Resources.modelVersion, modelVersion('birds-v1', 1, artifact, 0.9, 'birds'));
    await kube.create(Resources.inferenceService, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: 'birds', namespace: NS },
      spec: {
        model: 'birds',
        replicas: 2,
        monitoring: { enabled: false },
        rollout: {
          strategy: 'Canary',
          steps: [{ weight: 50, pauseSeconds: 0 }, { weight: 100, pauseSeconds: 0 }],
          analysis: { maxErrorRate: 0.5, minRequests: 0, window: '10s' },
          progressDeadlineSeconds: 90,
        },
      },
    });
    await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'birds', (o) => o.status?.phase === 'Ready', 'birds-v1 Ready', 150_000);
    await kube.create(Resources.modelVersion, modelVersion('birds-v2', 2, artifact, 0.95, 'birds'));
    let sawHalf = false;
    const done = await waitFor(
      async () => {
        const o = await kube.get<Isvc & { status?: { canary?: { weight?: number; lastAnalysis?: string } } }>(Resources.inferenceService, NS, 'birds');
        if (o?.status?.canary?.weight === 50) sawHalf = true;
        return o?.status?.currentModelVersion === 'birds-v2' && !o.status.canary ? o : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250, what: 'birds-v2 to be promoted through the canary steps' },
    );
    expect(sawHalf, 'the canary held 50% before promotion').to.equal(true);
    expect(done.status?.history?.at(-1)).to.include({ modelVersion: 'birds-v2', reason: 'Promoted' });
    expect(cond(done, 'PodMonitoring')?.reason).to.equal('MonitoringDisabled');
    expect(await operator.registry.metrics()).to.match(/kennel_operator_rollouts_total\{event="completed"\} [1-9]/);
    const events = await list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(kube, Resources.event, NS);
    expect(events.some((e) => e.involvedObject?.name === 'birds' && e.reason === 'CanaryProgressing' && /weight 100%|step 2\/2/.test(e.message ?? ''))).to.equal(true);
    await kube.delete(Resources.inferenceService, NS, 'birds');
  });

  it('with autoscaling, promotion keeps the capacity the HPA had scaled the old version to', async () => {
    type Dep = KubeObject & { spec?: { replicas?: number }; status?: { readyReplicas?: number } };
    const deployments = () => list<Dep>(kube, Resources.deployment, NS, 'kennel.dev/inference-service=scaled');
    const byVersion = async () => Object.fromEntries((await deployments()).map((d) => [d.metadata?.labels?.['kennel.dev/model-version'] ?? '', d]));
    await kube.create(Resources.modelVersion, modelVersion('scaled-v1', 1, artifact, 0.9, 'scaled'));
    await kube.create(Resources.inferenceService, {
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'InferenceService',
      metadata: { name: 'scaled', namespace: NS },
      spec: { model: 'scaled', autoscaling: { minReplicas: 1, maxReplicas: 3 }, monitoring: { enabled: false }, rollout: { strategy: 'Rolling', progressDeadlineSeconds: 120 } },
    });
    await waitForStatus<Isvc>(kube, Resources.inferenceService, NS, 'scaled', (o) => o.status?.phase === 'Ready', 'scaled-v1 Ready', 150_000);
    // What the HPA does under load: it writes the stable Deployment's scale subresource. (The test
    // bed's HPA controller has no metrics API, so it leaves a count within min..max alone.)
    await kube.request({
      method: 'PATCH',
      path: resourcePath(Resources.deployment, NS, 'scaled-scaled-v1', 'scale'),
      query: { fieldManager: 'horizontal-pod-autoscaler' },
      body: { spec: { replicas: 2 } },
      contentType: 'application/merge-patch+json',
    });
    await waitFor(async () => ((await byVersion())['scaled-v1']?.status?.readyReplicas === 2 ? true : undefined), { timeoutMs: 120_000, what: 'scaled-v1 at 2 ready pods' });

    await kube.create(Resources.modelVersion, modelVersion('scaled-v2', 2, artifact, 0.95, 'scaled'));
    let fewestReady = Infinity;
    await waitFor(
      async () => {
        const [o, deps] = await Promise.all([kube.get<Isvc>(Resources.inferenceService, NS, 'scaled'), deployments()]);
        fewestReady = Math.min(fewestReady, deps.reduce((n, d) => n + (d.status?.readyReplicas ?? 0), 0));
        return o?.status?.currentModelVersion === 'scaled-v2' && !o.status.canary && deps.length === 1 ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 200, what: 'scaled-v2 to take over' },
    );
    expect(fewestReady, 'ready serving pods never dropped below the 2 the HPA had set').to.be.at.least(2);
    // Settled: later reconciles apply the stable Deployment without a count, and it keeps 2.
    await new Promise((r) => setTimeout(r, 5_000));
    const v2 = (await byVersion())['scaled-v2'];
    expect(v2?.spec?.replicas, 'the promoted Deployment kept the count (not reset to 1)').to.equal(2);
    expect(v2?.status?.readyReplicas).to.equal(2);
    const hpa = await kube.get<KubeObject & { spec?: { scaleTargetRef?: { name?: string } } }>(Resources.hpa, NS, 'scaled');
    expect(hpa?.spec?.scaleTargetRef?.name).to.equal('scaled-scaled-v2');
    await kube.delete(Resources.inferenceService, NS, 'scaled');
  });

  it('deleting the InferenceService removes its children', async () => {
    await kube.delete(Resources.inferenceService, NS, 'pets');
    await waitFor(
      async () => {
        const [deps, svc, pdb, pm] = await Promise.all([
          list(kube, Resources.deployment, NS, 'kennel.dev/inference-service=pets'),
          kube.get(Resources.service, NS, 'pets'),
          kube.get(Resources.pdb, NS, 'pets'),
          kube.get(Resources.podMonitoring, NS, 'pets'),
        ]);
        return deps.length === 0 && !svc && !pdb && !pm ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the garbage collector to remove Deployments, Service, PDB and PodMonitoring' },
    );
    await waitForStatus<Obj>(kube, Resources.modelVersion, NS, 'pets-v2', (o) => o.status?.phase === 'Retired', 'pets-v2 Retired once nothing serves it');
  });
});

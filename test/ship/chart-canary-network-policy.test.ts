import { Writable } from 'node:stream';
import type { V1Deployment, V1NetworkPolicy } from '@kubernetes/client-node';
import { expect } from 'chai';
import { createCanaryAnalyzer } from '../../src/operator/inference-service/canary-analyzer.js';
import { desiredServingObjects } from '../../src/operator/inference-service/desired.js';
import { commonLabels } from '../../src/operator/shared/labels.js';
import { createManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { exampleInferenceService, exampleModelVersion } from '../fixtures/api-examples.js';
import { selectorMatches } from '../harness/prometheus-config.js';
import { findObject, helmTemplate, requiredValues, type KubeObject } from './helm.js';

/**
 * The chart's `networkPolicy.servingNamespaces`: in an application namespace that denies ingress
 * by default, the rendered NetworkPolicy must admit the canary analysis — the operator's pods
 * scraping each serving pod's /metrics. No CNI enforces NetworkPolicy in the test bed (the node
 * agent has no packet filter), so this checks the policy's parts against the real things they
 * must match: the chart's own operator pods and namespace, the serving pods the operator renders
 * (src/operator/inference-service/desired.ts, stable and canary) and the port the canary analyzer
 * really connects to. Enforcement itself is the CNI's, and is not proven here.
 */

const NS = 'kennel-system';
const APP_NS = 'team-a';

type Peer = { namespaceSelector?: Selector; podSelector?: Selector; ipBlock?: unknown };
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
type Rule = { from?: Peer[]; ports?: { port?: number | string; protocol?: string }[] };

/** The port the canary analyzer scrapes, as it scrapes it: the URL of its request to a ready pod. */
async function analyzerPort(): Promise<number> {
  const urls: string[] = [];
  const analyzer = createCanaryAnalyzer({
    clock: createManualClock(),
    logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    // Records the request instead of sending it: there is no pod at 10.244.0.7 to answer.
    fetchImpl: (async (url: string | URL) => {
      urls.push(String(url));
      return new Response('', { status: 503 });
    }) as typeof fetch,
  });
  await analyzer.measure({ service: `${APP_NS}/web`, modelVersion: 'cats-dogs-v2', startedAt: '2026-01-01T00:00:00Z' }, [
    { metadata: { name: 'web-cats-dogs-v2-abc' }, status: { podIP: '10.244.0.7', conditions: [{ type: 'Ready', status: 'True' }] } },
  ], 60_000);
  expect(urls).to.have.length(1);
  return Number(new URL(urls[0] ?? '').port);
}

/** The serving pods of an InferenceService in the application namespace mid-canary: stable and canary. */
function servingPods(): { labels: Record<string, string>; ports: number[] }[] {
  const isvc = exampleInferenceService('web');
  isvc.metadata.namespace = APP_NS;
  isvc.metadata.uid = 'isvc-uid';
  const now = '2026-01-01T00:00:00Z';
  const out = desiredServingObjects(
    isvc,
    {
      stable: exampleModelVersion('cats-dogs-v1', 1),
      canary: { modelVersion: exampleModelVersion('cats-dogs-v2', 2), state: { modelVersion: 'cats-dogs-v2', step: 0, weight: 25, startedAt: now, stepStartedAt: now } },
    },
    { image: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', podMonitoringAvailable: false },
  );
  expect(out.deployments).to.have.length(2);
  return out.deployments.map((d) => ({
    labels: d.spec?.template.metadata?.labels ?? {},
    ports: (d.spec?.template.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)),
  }));
}

describe('Helm chart: the NetworkPolicy canary analysis needs in a default-deny namespace', function () {
  this.timeout(60_000);

  it('is not rendered unless asked for (it isolates the pods it selects)', async function () {
    const objects = await helmTemplate({ ...requiredValues, networkPolicy: { enabled: true } });
    expect(objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).to.deep.equal([`${NS}/kennel`]);
  });

  it('admits the operator pods of the release namespace to every serving pod, on the port the analyzer scrapes, and nothing else', async function () {
    const objects = await helmTemplate({ ...requiredValues, networkPolicy: { servingNamespaces: [APP_NS, 'team-b'] } });
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(policies.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).to.deep.equal([`${APP_NS}/kennel-canary-analysis`, 'team-b/kennel-canary-analysis']);
    const policy = findObject(objects, 'NetworkPolicy', 'kennel-canary-analysis', APP_NS) as unknown as V1NetworkPolicy;
    const spec = policy.spec as unknown as { podSelector: Selector; policyTypes: string[]; ingress: Rule[]; egress?: unknown };
    expect(spec.policyTypes).to.deep.equal(['Ingress']);
    expect(spec.egress).to.equal(undefined);

    // Selects every serving pod, the stable's and the canary's, and not the training or batch pods.
    for (const pod of servingPods()) expect(selectorMatches(spec.podSelector, pod.labels), JSON.stringify(pod.labels)).to.equal(true);
    for (const other of ['training', 'batch-prediction'] as const) {
      expect(selectorMatches(spec.podSelector, commonLabels(other, 'x')), other).to.equal(false);
    }

    // One rule: from the operator's pods, in the release namespace only (both selectors in one peer).
    expect(spec.ingress).to.have.length(1);
    const rule = spec.ingress[0] as Rule;
    expect(rule.from).to.have.length(1);
    const peer = rule.from?.[0] as Peer;
    expect(peer.ipBlock).to.equal(undefined);
    // The API server labels every namespace kubernetes.io/metadata.name=<name> (the chart-testbed test lists by it).
    expect(selectorMatches(peer.namespaceSelector ?? {}, { 'kubernetes.io/metadata.name': NS })).to.equal(true);
    expect(selectorMatches(peer.namespaceSelector ?? {}, { 'kubernetes.io/metadata.name': APP_NS })).to.equal(false);
    const operatorPodLabels = (findObject(objects, 'Deployment', 'kennel', NS) as unknown as V1Deployment).spec?.template.metadata?.labels ?? {};
    expect(selectorMatches(peer.podSelector ?? {}, operatorPodLabels), JSON.stringify(operatorPodLabels)).to.equal(true);
    for (const pod of servingPods()) expect(selectorMatches(peer.podSelector ?? {}, pod.labels), 'a serving pod is no operator').to.equal(false);

    // The port: the one the analyzer connects to, which the serving container listens on.
    const port = await analyzerPort();
    expect(rule.ports).to.deep.equal([{ port, protocol: 'TCP' }]);
    for (const pod of servingPods()) expect(pod.ports).to.include(port);
  });

  it('follows the release namespace and name', async function () {
    const objects: KubeObject[] = await helmTemplate({ ...requiredValues, networkPolicy: { servingNamespaces: [APP_NS] } }, { release: 'ml', namespace: 'platform' });
    const policy = findObject(objects, 'NetworkPolicy', 'ml-kennel-canary-analysis', APP_NS) as unknown as { spec: { ingress: Rule[] } };
    const peer = policy.spec.ingress[0]?.from?.[0] as Peer;
    expect(peer.namespaceSelector?.matchLabels).to.deep.equal({ 'kubernetes.io/metadata.name': 'platform' });
    const operatorPodLabels = (findObject(objects, 'Deployment', 'ml-kennel', 'platform') as unknown as V1Deployment).spec?.template.metadata?.labels ?? {};
    expect(selectorMatches(peer.podSelector ?? {}, operatorPodLabels)).to.equal(true);
  });

  it('rejects a namespace that is not a DNS label, naming the value', async function () {
    const err = await helmTemplate({ ...requiredValues, networkPolicy: { servingNamespaces: ['Team_A'] } }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).to.match(/networkPolicy\/servingNamespaces\/0/);
  });
});

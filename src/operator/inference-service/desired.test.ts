import { expect } from 'chai';
import { exampleInferenceService, exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import type { InferenceService } from '../../shared/api/inference-service.js';
import { desiredServingObjects, serviceUrl, type ServingOptions } from './desired.js';

const options: ServingOptions = { image: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', podMonitoringAvailable: true, env: [{ name: 'KENNEL_GCS_AUTH', value: 'adc' }] };
const v1 = exampleModelVersion('cats-dogs-v1', 1);
const v2 = exampleModelVersion('cats-dogs-v2', 2);

function isvc(mutate?: (s: InferenceService) => void): InferenceService {
  const s = exampleInferenceService('web');
  s.metadata.uid = 'isvc-uid';
  s.spec.replicas = 4;
  mutate?.(s);
  return s;
}

describe('inference-service desired objects', () => {
  it('renders one Deployment of `kennel serve` with probes, zero-unavailable updates and a locked-down pod', () => {
    const out = desiredServingObjects(isvc(), { stable: v1 }, options);
    expect(out.deployments).to.have.length(1);
    const d = out.deployments[0];
    expect(d?.metadata?.name).to.equal('web-cats-dogs-v1');
    expect(d?.metadata?.ownerReferences?.[0]).to.deep.include({ kind: 'InferenceService', name: 'web', uid: 'isvc-uid', controller: true });
    expect(d?.metadata?.labels?.['kennel.dev/track']).to.equal('stable');
    expect(d?.spec?.replicas).to.equal(4);
    expect(d?.spec?.selector.matchLabels).to.deep.equal({ 'kennel.dev/inference-service': 'web', 'kennel.dev/model-version': 'cats-dogs-v1' });
    expect(d?.spec?.strategy?.rollingUpdate).to.deep.equal({ maxUnavailable: 0, maxSurge: 1 });
    const pod = d?.spec?.template;
    expect(pod?.metadata?.labels).to.include({ 'kennel.dev/model': 'cats-dogs', 'kennel.dev/version': '1' });
    expect(pod?.metadata?.labels).to.not.have.property('kennel.dev/track');
    expect(pod?.metadata?.annotations?.['kennel.dev/artifact-sha256']).to.equal(v1.spec.artifact.sha256);
    const c = pod?.spec?.containers[0];
    expect(c?.args).to.deep.equal(['serve', '--model', v1.spec.artifact.uri, '--port', '8080', '--model-name', 'cats-dogs', '--model-version', '1', '--shutdown-timeout-seconds', '20']);
    expect(c?.ports).to.deep.equal([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c?.readinessProbe?.httpGet?.path).to.equal('/readyz');
    expect(c?.livenessProbe?.httpGet?.path).to.equal('/healthz');
    expect((c?.startupProbe?.periodSeconds ?? 0) * (c?.startupProbe?.failureThreshold ?? 0)).to.equal(300);
    // Zero-downtime termination: answer for 5 s after deletion (endpoints and proxies catch up),
    // then drain for up to 20 s, then write the prediction log out for up to 10 s, all inside
    // the grace period before SIGKILL.
    expect(c?.lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 5 } } });
    expect(pod?.spec?.terminationGracePeriodSeconds).to.equal(40);
    expect(pod?.spec?.terminationGracePeriodSeconds).to.be.greaterThan(5 + 20 + 10);
    expect(c?.securityContext?.readOnlyRootFilesystem).to.equal(true);
    expect(pod?.spec?.securityContext?.runAsNonRoot).to.equal(true);
    expect(c?.env).to.deep.include({ name: 'KENNEL_GCS_AUTH', value: 'adc' });
    expect(c?.resources).to.deep.equal({ requests: { cpu: '500m', memory: '512Mi' } });
  });

  it('passes minConfidence to the server as --min-confidence', () => {
    const out = desiredServingObjects(isvc((s) => (s.spec.minConfidence = 0.7)), { stable: v1 }, options);
    const args = out.deployments[0]?.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.slice(-2)).to.deep.equal(['--min-confidence', '0.7']);
  });

  it('passes spec.loadShedding to the server as --max-in-flight and --max-queue, and leaves the server defaults alone without it', () => {
    const out = desiredServingObjects(isvc((s) => (s.spec.loadShedding = { maxInFlight: 16, maxQueue: 200 })), { stable: v1 }, options);
    const args = out.deployments[0]?.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.slice(-4)).to.deep.equal(['--max-in-flight', '16', '--max-queue', '200']);
    const plain = desiredServingObjects(isvc(() => undefined), { stable: v1 }, options).deployments[0]?.spec?.template.spec?.containers[0]?.args ?? [];
    expect(plain).not.to.include('--max-in-flight');
    expect(plain).not.to.include('--max-queue');
  });

  it('passes spec.logging to every version\'s server, so all of them write one prediction log and share its id key', () => {
    const logged = isvc((s) => (s.spec.logging = { uri: 'gs://logs/kennel/web', imageSampleRate: 0.25, flushIntervalSeconds: 10 }));
    const out = desiredServingObjects(logged, { stable: v1, canary: { modelVersion: v2, state: { modelVersion: v2.metadata.name, step: 0, weight: 50, startedAt: '2026-01-01T00:00:00Z', stepStartedAt: '2026-01-01T00:00:00Z' } } }, options);
    for (const d of out.deployments) {
      const args = d.spec?.template.spec?.containers[0]?.args ?? [];
      expect(args.slice(args.indexOf('--prediction-log'))).to.deep.equal(['--prediction-log', 'gs://logs/kennel/web', '--image-sample-rate', '0.25', '--log-flush-seconds', '10', '--log-flush-timeout-seconds', '10']);
    }
    const plain = desiredServingObjects(isvc(), { stable: v1 }, options).deployments[0]?.spec?.template.spec?.containers[0]?.args ?? [];
    expect(plain).to.not.include('--prediction-log');
  });

  it('renders a Service over all versions, a PodMonitoring and a PDB', () => {
    const out = desiredServingObjects(isvc(), { stable: v1 }, options);
    expect(out.service.spec?.selector).to.deep.equal({ 'kennel.dev/inference-service': 'web' });
    expect(out.service.spec?.ports).to.deep.equal([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(out.podMonitoring).to.deep.include({ apiVersion: 'monitoring.googleapis.com/v1', kind: 'PodMonitoring' });
    expect(out.podMonitoring?.spec).to.deep.equal({
      selector: { matchLabels: { 'kennel.dev/inference-service': 'web' } },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
    });
    expect(out.pdb.spec).to.deep.equal({ maxUnavailable: 1, selector: { matchLabels: { 'kennel.dev/inference-service': 'web' } } });
    expect(out.hpa).to.equal(undefined);
    expect(serviceUrl(isvc())).to.equal('http://web.default.svc.cluster.local');
    expect(serviceUrl(isvc((s) => (s.spec.port = 8000)))).to.equal('http://web.default.svc.cluster.local:8000');
  });

  it('skips the PodMonitoring when its CRD is missing or monitoring is off', () => {
    expect(desiredServingObjects(isvc(), { stable: v1 }, { ...options, podMonitoringAvailable: false }).podMonitoring).to.equal(undefined);
    expect(desiredServingObjects(isvc((s) => (s.spec.monitoring = { enabled: false })), { stable: v1 }, options).podMonitoring).to.equal(undefined);
  });

  it('adds the canary Deployment with replicas by weight and shrinks the stable one once the step is ready', () => {
    const canary = { modelVersion: 'cats-dogs-v2', step: 0, weight: 25, startedAt: 't', stepStartedAt: 't' };
    let out = desiredServingObjects(isvc(), { stable: v1, canary: { modelVersion: v2, state: canary } }, options);
    expect(out.deployments.map((d) => [d.metadata?.name, d.metadata?.labels?.['kennel.dev/track'], d.spec?.replicas])).to.deep.equal([
      ['web-cats-dogs-v1', 'stable', 4],
      ['web-cats-dogs-v2', 'canary', 1],
    ]);
    out = desiredServingObjects(isvc(), { stable: v1, canary: { modelVersion: v2, state: { ...canary, readyAt: 't' } } }, options);
    expect(out.deployments.map((d) => d.spec?.replicas)).to.deep.equal([3, 1]);
  });

  it('with autoscaling: an HPA on the stable Deployment, which gets no replica count', () => {
    const out = desiredServingObjects(isvc((s) => {
      delete s.spec.replicas;
      s.spec.autoscaling = { minReplicas: 2, maxReplicas: 6 };
    }), { stable: v1, stableReplicas: 3 }, options);
    expect(out.deployments[0]?.spec).to.not.have.property('replicas');
    expect(out.hpa?.spec).to.deep.equal({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-cats-dogs-v1' },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    });
  });

  it('with autoscaling: a new stable Deployment starts at minReplicas; a promoting canary gets the count the HPA set', () => {
    const autoscaled = isvc((s) => {
      delete s.spec.replicas;
      s.spec.autoscaling = { minReplicas: 2, maxReplicas: 6 };
    });
    expect(desiredServingObjects(autoscaled, { stable: v1 }, options).deployments[0]?.spec?.replicas, 'no stable Deployment yet').to.equal(2);
    const promoting = { modelVersion: v2, state: { modelVersion: 'cats-dogs-v2', step: 3, weight: 100, startedAt: '', stepStartedAt: '' } };
    const out = desiredServingObjects(autoscaled, { stable: v1, canary: promoting, stableReplicas: 5 }, options);
    expect(out.deployments.map((d) => d.spec?.replicas)).to.deep.equal([undefined, 5]);
    // After the takeover the new stable Deployment exists with those 5: it is rendered without a count (the HPA's).
    expect(desiredServingObjects(autoscaled, { stable: v2, stableReplicas: 5 }, options).deployments[0]?.spec).to.not.have.property('replicas');
  });

  it('renders no Deployment before any version is chosen', () => {
    expect(desiredServingObjects(isvc(), {}, options).deployments).to.deep.equal([]);
  });
});

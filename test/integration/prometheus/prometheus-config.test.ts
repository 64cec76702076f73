import { expect } from 'chai';
import {
  durationMs,
  renderPrometheusConfig,
  renderScrapeConfigs,
  sanitizeLabelName,
  selectorMatches,
  type PodLike,
  type PodMonitoringLike,
} from '../../harness/prometheus-config.js';

const pm: PodMonitoringLike = {
  metadata: { name: 'cats-dogs', namespace: 'pets' },
  spec: { selector: { matchLabels: { 'kennel.dev/inference-service': 'cats-dogs' } }, endpoints: [{ port: 'http', path: '/metrics', interval: '5s' }] },
};

const pod = (name: string, o: { ns?: string; labels?: Record<string, string>; phase?: string; ip?: string; ports?: { name?: string; containerPort: number }[] } = {}): PodLike => ({
  metadata: { name, namespace: o.ns ?? 'pets', labels: o.labels ?? { 'kennel.dev/inference-service': 'cats-dogs' } },
  spec: { containers: [{ name: 'server', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: o.phase ?? 'Running', podIP: o.ip ?? '10.0.0.1' },
});

describe('PodMonitoring → Prometheus scrape config', () => {
  it('parses Prometheus durations', () => {
    expect(durationMs('30s')).to.equal(30_000);
    expect(durationMs('1m30s')).to.equal(90_000);
    expect(durationMs('500ms')).to.equal(500);
    expect(() => durationMs('30 seconds')).to.throw(/not a Prometheus duration/);
  });

  it('matches label selectors like Kubernetes does', () => {
    const sel = { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'canary', operator: 'DoesNotExist' }] };
    expect(selectorMatches(sel, { app: 'a', tier: 'api' })).to.equal(true);
    expect(selectorMatches(sel, { app: 'a', tier: 'db' })).to.equal(false);
    expect(selectorMatches(sel, { app: 'a', tier: 'web', canary: '' })).to.equal(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, {})).to.equal(true);
    expect(() => selectorMatches({ matchExpressions: [{ key: 'x', operator: 'Gt' }] }, {})).to.throw(/unsupported/);
  });

  it('renders static targets: Running pods of the namespace that match, on the named container port', () => {
    const pods = [
      pod('a', { ip: '10.0.0.1' }),
      pod('b', { ip: '10.0.0.2', ports: [{ name: 'http', containerPort: 9000 }] }),
      pod('pending', { phase: 'Pending' }),
      pod('other-ns', { ns: 'default' }),
      pod('other-app', { labels: { 'kennel.dev/inference-service': 'birds' } }),
      pod('no-port', { ports: [{ name: 'metrics', containerPort: 9090 }] }),
    ];
    const [job] = renderScrapeConfigs(pm, { kind: 'static', pods });
    expect(job).to.deep.equal({
      job_name: 'PodMonitoring/pets/cats-dogs/http',
      honor_timestamps: true,
      scrape_interval: '5s',
      scrape_timeout: '5s',
      metrics_path: '/metrics',
      scheme: 'http',
      static_configs: [
        { targets: ['10.0.0.1:8080'], labels: { namespace: 'pets', pod: 'a', container: 'server' } },
        { targets: ['10.0.0.2:9000'], labels: { namespace: 'pets', pod: 'b', container: 'server' } },
      ],
    });
  });

  it('resolves a numeric port and caps the default timeout at 10s', () => {
    const numeric: PodMonitoringLike = { ...pm, spec: { ...pm.spec, endpoints: [{ port: 9090, interval: '1m' }] } };
    const [job] = renderScrapeConfigs(numeric, { kind: 'static', pods: [pod('a', { ports: [{ name: 'metrics', containerPort: 9090 }] })] });
    expect(job).to.include({ scrape_interval: '1m', scrape_timeout: '10s', metrics_path: '/metrics', job_name: 'PodMonitoring/pets/cats-dogs/9090' });
    expect(job?.static_configs).to.deep.equal([{ targets: ['10.0.0.1:9090'], labels: { namespace: 'pets', pod: 'a', container: 'server' } }]);
  });

  it('refuses a timeout longer than the interval, as the CRD does', () => {
    const bad: PodMonitoringLike = { ...pm, spec: { ...pm.spec, endpoints: [{ port: 'http', interval: '5s', timeout: '10s' }] } };
    expect(() => renderScrapeConfigs(bad, { kind: 'static', pods: [] })).to.throw(/scrape timeout \(10s\) must not be greater than scrape interval \(5s\)/);
  });

  it('renders kubernetes_sd_configs with relabel rules from the selector and port', () => {
    const withExpr: PodMonitoringLike = {
      ...pm,
      spec: { ...pm.spec, selector: { ...pm.spec.selector, matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['shadow'] }] } },
    };
    const [job] = renderScrapeConfigs(withExpr, { kind: 'kubernetes', kubeconfigPath: '/tmp/kubeconfig' });
    expect(job?.kubernetes_sd_configs).to.deep.equal([{ role: 'pod', kubeconfig_file: '/tmp/kubeconfig', namespaces: { names: ['pets'] } }]);
    const label = sanitizeLabelName('kennel.dev/inference-service');
    expect(label).to.equal('kennel_dev_inference_service');
    expect(job?.relabel_configs).to.deep.include({ action: 'keep', source_labels: [`__meta_kubernetes_pod_label_${label}`], regex: 'cats-dogs' });
    expect(job?.relabel_configs).to.deep.include({ action: 'keep', source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running' });
    expect(job?.relabel_configs).to.deep.include({ action: 'drop', source_labels: ['__meta_kubernetes_pod_labelpresent_track', '__meta_kubernetes_pod_label_track'], separator: ';', regex: 'true;(shadow)' });
    expect(job?.relabel_configs).to.deep.include({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http' });
    expect(job?.relabel_configs).to.deep.include({ action: 'replace', source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' });
  });

  it('maps metricRelabeling onto metric_relabel_configs and wraps every PodMonitoring in one config', () => {
    const relabel: PodMonitoringLike = {
      ...pm,
      spec: { ...pm.spec, endpoints: [{ port: 'http', interval: '5s', metricRelabeling: [{ action: 'drop', sourceLabels: ['__name__'], regex: 'go_.*' }] }] },
    };
    const config = renderPrometheusConfig([relabel, { ...pm, metadata: { name: 'b', namespace: 'pets' } }], { kind: 'static', pods: [] });
    const jobs = config.scrape_configs as Record<string, unknown>[];
    expect(jobs.map((j) => j.job_name)).to.deep.equal(['PodMonitoring/pets/cats-dogs/http', 'PodMonitoring/pets/b/http']);
    expect(jobs[0]?.metric_relabel_configs).to.deep.equal([{ action: 'drop', source_labels: ['__name__'], regex: 'go_.*' }]);
  });
});

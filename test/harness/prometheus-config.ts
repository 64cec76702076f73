/**
 * Renders a Prometheus scrape configuration from a GKE Managed Prometheus `PodMonitoring`
 * (monitoring.googleapis.com/v1), the way the managed collector reads one: the pods in the
 * PodMonitoring's namespace whose labels match `spec.selector`, in phase Running, scraped on
 * each endpoint's container port (by name or number), path, scheme, interval and timeout, with
 * `namespace`, `pod` and `container` target labels and the endpoint's metricRelabeling. Pure:
 * the harness in prometheus.ts writes the result and runs a real Prometheus on it.
 *
 * Two ways to find the pods:
 * - `kubernetes`: Prometheus's own kubernetes_sd_configs (role pod) against a kubeconfig, with
 *   relabel rules derived from the selector, so targets follow rollouts by themselves;
 * - `static`: pods the caller resolved (e.g. listed from the API server), as static targets.
 */

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface PodMonitoringEndpoint {
  readonly port: number | string;
  readonly path?: string;
  readonly scheme?: 'http' | 'https';
  readonly interval: string;
  readonly timeout?: string;
  readonly params?: Readonly<Record<string, readonly string[]>>;
  readonly metricRelabeling?: readonly Readonly<Record<string, unknown>>[];
}

export interface PodMonitoringLike {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly selector: { readonly matchLabels?: Readonly<Record<string, string>>; readonly matchExpressions?: readonly LabelSelectorRequirement[] };
    readonly endpoints: readonly PodMonitoringEndpoint[];
  };
}

/** The parts of a Pod that target resolution needs. */
export interface PodLike {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: { readonly containers: readonly { readonly name: string; readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[] }[] };
  readonly status?: { readonly phase?: string; readonly podIP?: string };
}

export type TargetDiscovery = { readonly kind: 'kubernetes'; readonly kubeconfigPath: string } | { readonly kind: 'static'; readonly pods: readonly PodLike[] };

export type RelabelConfig = Record<string, unknown>;
export type ScrapeConfig = Record<string, unknown>;

/** Prometheus durations (`30s`, `1m30s`, `500ms`) in milliseconds; throws on anything else. */
export function durationMs(d: string): number {
  const m = /^((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$/.exec(d);
  if (!m || d === '') throw new Error(`not a Prometheus duration: ${JSON.stringify(d)}`);
  return ((Number(m[2] ?? 0) * 60 + Number(m[4] ?? 0)) * 60 + Number(m[6] ?? 0)) * 1000 + Number(m[8] ?? 0);
}

/** Prometheus's name for a Kubernetes label in service-discovery meta labels. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `labels` satisfy a Kubernetes label selector (matchLabels and matchExpressions). */
export function selectorMatches(selector: PodMonitoringLike['spec']['selector'], labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unsupported label selector operator ${JSON.stringify(e.operator)}`);
    }
  }
  return true;
}

/** Relabel rules that keep only the pods (and container port) a PodMonitoring endpoint selects. */
export function selectorRelabeling(pm: PodMonitoringLike, endpoint: PodMonitoringEndpoint): RelabelConfig[] {
  const rules: RelabelConfig[] = [
    { action: 'keep', source_labels: ['__meta_kubernetes_namespace'], regex: escapeRegex(pm.metadata.namespace ?? 'default') },
    { action: 'keep', source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running' },
  ];
  for (const [k, v] of Object.entries(pm.spec.selector.matchLabels ?? {})) {
    rules.push({ action: 'keep', source_labels: [`__meta_kubernetes_pod_labelpresent_${sanitizeLabelName(k)}`], regex: 'true' });
    rules.push({ action: 'keep', source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(k)}`], regex: escapeRegex(v) });
  }
  for (const e of pm.spec.selector.matchExpressions ?? []) {
    const present = `__meta_kubernetes_pod_labelpresent_${sanitizeLabelName(e.key)}`;
    const value = `__meta_kubernetes_pod_label_${sanitizeLabelName(e.key)}`;
    const alternatives = (e.values ?? []).map(escapeRegex).join('|');
    switch (e.operator) {
      case 'In':
        rules.push({ action: 'keep', source_labels: [present], regex: 'true' }, { action: 'keep', source_labels: [value], regex: `(${alternatives})` });
        break;
      case 'NotIn':
        // Absent keys pass NotIn; the separator keeps "absent" from matching an empty value.
        rules.push({ action: 'drop', source_labels: [present, value], separator: ';', regex: `true;(${alternatives})` });
        break;
      case 'Exists':
        rules.push({ action: 'keep', source_labels: [present], regex: 'true' });
        break;
      case 'DoesNotExist':
        rules.push({ action: 'drop', source_labels: [present], regex: 'true' });
        break;
      default:
        throw new Error(`unsupported label selector operator ${JSON.stringify(e.operator)}`);
    }
  }
  rules.push(
    typeof endpoint.port === 'number'
      ? { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(endpoint.port) }
      : { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: escapeRegex(endpoint.port) },
    { action: 'replace', source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { action: 'replace', source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    { action: 'replace', source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
  );
  return rules;
}

/** Static targets (`podIP:port`, labelled with namespace, pod and container) of the Running pods an endpoint selects. */
export function staticTargets(pm: PodMonitoringLike, endpoint: PodMonitoringEndpoint, pods: readonly PodLike[]): { targets: string[]; labels: Record<string, string> }[] {
  const namespace = pm.metadata.namespace ?? 'default';
  const out: { targets: string[]; labels: Record<string, string> }[] = [];
  for (const pod of pods) {
    if ((pod.metadata.namespace ?? 'default') !== namespace) continue;
    if (pod.status?.phase !== 'Running' || !pod.status.podIP) continue;
    if (!selectorMatches(pm.spec.selector, pod.metadata.labels ?? {})) continue;
    for (const c of pod.spec?.containers ?? []) {
      const port = (c.ports ?? []).find((p) => (typeof endpoint.port === 'number' ? p.containerPort === endpoint.port : p.name === endpoint.port));
      if (!port) continue;
      out.push({ targets: [`${pod.status.podIP}:${port.containerPort}`], labels: { namespace, pod: pod.metadata.name, container: c.name } });
    }
  }
  return out;
}

const camelToSnake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * One Prometheus scrape config per endpoint of the PodMonitoring, named
 * `PodMonitoring/<namespace>/<name>/<port>` as the managed collector names its jobs. The scrape
 * timeout is the endpoint's, else the interval capped at 10 s (Prometheus requires timeout ≤
 * interval).
 */
export function renderScrapeConfigs(pm: PodMonitoringLike, discovery: TargetDiscovery): ScrapeConfig[] {
  const namespace = pm.metadata.namespace ?? 'default';
  return pm.spec.endpoints.map((endpoint): ScrapeConfig => {
    const intervalMs = durationMs(endpoint.interval);
    const timeout = endpoint.timeout ?? (intervalMs < 10_000 ? endpoint.interval : '10s');
    if (durationMs(timeout) > intervalMs) throw new Error(`scrape timeout (${timeout}) must not be greater than scrape interval (${endpoint.interval})`);
    const config: ScrapeConfig = {
      job_name: `PodMonitoring/${namespace}/${pm.metadata.name}/${endpoint.port}`,
      honor_timestamps: true,
      scrape_interval: endpoint.interval,
      scrape_timeout: timeout,
      metrics_path: endpoint.path ?? '/metrics',
      scheme: endpoint.scheme ?? 'http',
      ...(endpoint.params ? { params: endpoint.params } : {}),
      ...(endpoint.metricRelabeling?.length
        ? { metric_relabel_configs: endpoint.metricRelabeling.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [camelToSnake(k), v]))) }
        : {}),
    };
    if (discovery.kind === 'kubernetes') {
      config.kubernetes_sd_configs = [{ role: 'pod', kubeconfig_file: discovery.kubeconfigPath, namespaces: { names: [namespace] } }];
      config.relabel_configs = selectorRelabeling(pm, endpoint);
    } else {
      config.static_configs = staticTargets(pm, endpoint, discovery.pods);
    }
    return config;
  });
}

/** A whole prometheus.yml: the global defaults plus the scrape configs of every PodMonitoring given. */
export function renderPrometheusConfig(podMonitorings: readonly PodMonitoringLike[], discovery: TargetDiscovery): Record<string, unknown> {
  return {
    global: { scrape_interval: '30s', evaluation_interval: '30s' },
    scrape_configs: podMonitorings.flatMap((pm) => renderScrapeConfigs(pm, discovery)),
  };
}

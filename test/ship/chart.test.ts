import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  V1ClusterRole,
  V1ConfigMap,
  V1Deployment,
  V1NetworkPolicy,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse } from 'yaml';
import { diffChartCrds } from '../../scripts/sync-chart-crds.js';
import { chartDir, findObject, helmTemplate, helmTemplateRaw, kubeVersion, parseManifests, requiredValues, runHelm, withValuesFile, type KubeObject } from './helm.js';
import { repoRoot } from './paths.js';

const NS = 'kennel-system';

/** Verbs per "apiGroup/resource", merged over the rules (order-insensitive). */
function grants(rules: readonly V1PolicyRule[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? ['']) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        out[key] ??= new Set();
        for (const verb of rule.verbs) out[key].add(verb);
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

const sorted = (...verbs: string[]): string[] => [...verbs].sort();
const CRUD_OWNED = sorted('get', 'list', 'watch', 'create', 'patch', 'delete');

/** Exactly what the operator may do in the namespaces it watches (README.md explains each). */
const EXPECTED_NAMESPACED_GRANTS: Record<string, string[]> = {
  // The operator never writes a user's object, nor finalizers: it reads them, creates ModelVersions
  // (and TrainingRuns when a retraining policy fires), and PUTs status
  // (src/operator/runtime/object-reconciler.ts).
  // A TrainingSweep applies, re-applies and deletes its trials' runs, and patches the annotations
  // of its best trial's ModelVersion (src/operator/training-sweep/reconciler.ts).
  'kennel.dev/trainingruns': sorted('get', 'list', 'watch', 'create', 'patch', 'delete'),
  'kennel.dev/modelversions': sorted('get', 'list', 'watch', 'create', 'patch'),
  'kennel.dev/inferenceservices': sorted('get', 'list', 'watch'),
  'kennel.dev/batchpredictions': sorted('get', 'list', 'watch'),
  'kennel.dev/trainingsweeps': sorted('get', 'list', 'watch'),
  'kennel.dev/trainingruns/status': ['update'],
  'kennel.dev/modelversions/status': ['update'],
  'kennel.dev/inferenceservices/status': ['update'],
  'kennel.dev/batchpredictions/status': ['update'],
  'kennel.dev/trainingsweeps/status': ['update'],
  'batch/jobs': sorted('get', 'list', 'watch', 'create', 'delete', 'patch'),
  '/pods': sorted('get', 'list', 'watch'),
  '/pods/log': ['get'],
  'apps/deployments': CRUD_OWNED,
  '/services': CRUD_OWNED,
  'monitoring.googleapis.com/podmonitorings': CRUD_OWNED,
  'autoscaling/horizontalpodautoscalers': CRUD_OWNED,
  'policy/poddisruptionbudgets': CRUD_OWNED,
  // core/v1 Events: created, and patched when a repeat is aggregated (src/operator/kube/events.ts).
  '/events': sorted('create', 'patch'),
};

function operatorDeployment(objects: KubeObject[]): V1Deployment {
  return findObject(objects, 'Deployment', 'kennel', NS) as unknown as V1Deployment;
}

function operatorConfig(objects: KubeObject[]): Record<string, string> {
  return (findObject(objects, 'ConfigMap', 'kennel', NS) as unknown as V1ConfigMap).data ?? {};
}

describe('Helm chart charts/kennel', function () {
  this.timeout(60_000);

  describe('helm lint', function () {
    it('passes --strict with the required values', async function () {
      const result = await runHelm(['lint', chartDir, '--strict', '--kube-version', kubeVersion(), '--set', 'storage.artifactRoot=gs://bucket/kennel']);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    it('passes --strict with every optional feature on', async function () {
      const result = await runHelm([
        'lint', chartDir, '--strict', '--kube-version', kubeVersion(),
        '--set', 'storage.artifactRoot=gs://bucket/kennel',
        '--set', 'monitoring.podMonitoring.enabled=true,monitoring.serviceMonitor.enabled=true,monitoring.grafanaDashboard.enabled=true,networkPolicy.enabled=true',
        '--set', 'operator.watchNamespaces={team-a,team-b}',
        '--set', 'workloads.serviceAccount.gcpServiceAccount=kennel-worker@my-project.iam.gserviceaccount.com',
      ]);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
    });
  });

  describe('CRDs', function () {
    it('charts/kennel/crds/ is byte-identical to crds/ (npm run chart:sync-crds)', async function () {
      expect(await diffChartCrds(repoRoot)).to.deep.equal([]);
    });

    it('Chart.yaml appVersion is the package version (the default image tag)', async function () {
      const chart = parse(await readFile(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
      const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
      expect(chart.appVersion).to.equal(pkg.version);
    });
  });

  describe('helm template with default values', function () {
    let objects: KubeObject[];
    before(async function () {
      objects = await helmTemplate(requiredValues);
    });

    it('renders the expected objects and nothing optional', function () {
      const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(kinds).to.deep.equal(
        [
          'ClusterRole/kennel-operator',
          'ClusterRoleBinding/kennel-operator',
          'ConfigMap/kennel',
          'Deployment/kennel',
          'PodDisruptionBudget/kennel',
          'Role/kennel-leader-election',
          'RoleBinding/kennel-leader-election',
          'ServiceAccount/kennel',
          'ServiceAccount/kennel-workload',
        ].sort(),
      );
      for (const o of objects) {
        expect(o.metadata.labels?.['app.kubernetes.io/part-of'], `${o.kind}/${o.metadata.name}`).to.equal('kennel');
      }
    });

    it('runs two operator replicas, locked down', function () {
      const deployment = operatorDeployment(objects);
      expect(deployment.spec?.replicas).to.equal(2);
      const pod = deployment.spec?.template.spec;
      expect(pod?.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 });
      expect(pod?.securityContext?.seccompProfile?.type).to.equal('RuntimeDefault');
      expect(pod?.serviceAccountName).to.equal('kennel');
      const [container, ...others] = pod?.containers ?? [];
      expect(others).to.have.length(0);
      expect(container?.image).to.equal('ghcr.io/kennel-dev/kennel-operator:0.1.0');
      expect(container?.args).to.deep.equal(['operator']);
      expect(container?.securityContext).to.deep.include({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
      });
      expect(container?.securityContext?.capabilities?.drop).to.deep.equal(['ALL']);
      expect(container?.securityContext?.capabilities?.add).to.equal(undefined);
      expect(container?.securityContext?.seccompProfile?.type).to.equal('RuntimeDefault');
      expect(container?.resources?.requests).to.have.keys('cpu', 'memory');
      expect(container?.resources?.limits).to.have.property('memory');
      const tmp = container?.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(tmp, 'a writable /tmp').to.not.equal(undefined);
      expect(pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).to.not.equal(undefined);
    });

    it('probes /healthz and /readyz on port 8081', function () {
      const container = operatorDeployment(objects).spec?.template.spec?.containers[0];
      expect(container?.ports).to.deep.equal([{ name: 'health', containerPort: 8081, protocol: 'TCP' }]);
      expect(container?.livenessProbe?.httpGet).to.deep.equal({ path: '/healthz', port: 'health' });
      expect(container?.readinessProbe?.httpGet).to.deep.equal({ path: '/readyz', port: 'health' });
      expect(container?.startupProbe?.httpGet?.path).to.equal('/healthz');
    });

    it('configures the operator through the environment variables of the contract', function () {
      const container = operatorDeployment(objects).spec?.template.spec?.containers[0];
      expect(container?.envFrom).to.deep.equal([{ configMapRef: { name: 'kennel' } }]);
      expect(operatorConfig(objects)).to.deep.equal({
        KENNEL_NAMESPACES: '',
        KENNEL_LEADER_ELECT: 'true',
        KENNEL_LEASE_NAMESPACE: NS,
        KENNEL_WORKER_IMAGE: 'ghcr.io/kennel-dev/kennel-worker:0.1.0',
        KENNEL_ARTIFACT_ROOT: 'gs://kennel-test-bucket/kennel',
        KENNEL_GATE_MIN_ACCURACY: '0.8',
        KENNEL_HEALTH_PORT: '8081',
        KENNEL_SERVICE_ACCOUNT: 'kennel-workload',
        KENNEL_LOG_LEVEL: 'info',
        KENNEL_GCS_AUTH: 'adc',
        KENNEL_LIVE_INTERVAL_SECONDS: '60',
      });
      const annotations = operatorDeployment(objects).spec?.template.metadata?.annotations ?? {};
      expect(annotations['checksum/config']).to.match(/^[a-f0-9]{64}$/);
    });

    it('grants exactly the namespaced permissions the operator uses, cluster-wide', function () {
      const role = findObject(objects, 'ClusterRole', 'kennel-operator') as unknown as V1ClusterRole;
      expect(grants(role.rules ?? [])).to.deep.equal(EXPECTED_NAMESPACED_GRANTS);
      const binding = findObject(objects, 'ClusterRoleBinding', 'kennel-operator') as unknown as V1RoleBinding;
      expect(binding.roleRef).to.deep.include({ kind: 'ClusterRole', name: 'kennel-operator' });
      expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'kennel', namespace: NS }]);
    });

    it('reads no CustomResourceDefinitions (PodMonitoring is found through discovery), and takes Leases only in its own namespace', function () {
      const clusterRules = objects.filter((o) => o.kind === 'ClusterRole').flatMap((o) => (o as unknown as V1ClusterRole).rules ?? []);
      expect(clusterRules.some((r) => r.apiGroups?.includes('apiextensions.k8s.io'))).to.equal(false);
      const leases = findObject(objects, 'Role', 'kennel-leader-election', NS) as unknown as V1Role;
      expect(grants(leases.rules ?? [])).to.deep.equal({ 'coordination.k8s.io/leases': sorted('get', 'create', 'update') });
    });

    it('gives workloads a ServiceAccount without a token and without Kubernetes permissions', function () {
      const sa = findObject(objects, 'ServiceAccount', 'kennel-workload', NS) as unknown as V1ServiceAccount;
      expect(sa.automountServiceAccountToken).to.equal(false);
      expect(sa.metadata?.annotations).to.equal(undefined);
      const bound = objects.filter((o) => /Binding$/.test(o.kind)).flatMap((o) => (o as unknown as V1RoleBinding).subjects ?? []);
      expect(bound.map((s) => s.name)).to.not.include('kennel-workload');
    });
  });

  describe('helm template with other values', function () {
    it('watching namespaces binds the role only there and creates the workload ServiceAccount in each', async function () {
      const objects = await helmTemplate({ ...requiredValues, operator: { watchNamespaces: ['team-a', 'team-b'] } });
      expect(operatorConfig(objects).KENNEL_NAMESPACES).to.equal('team-a,team-b');
      expect(objects.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kennel-operator')).to.equal(false);
      for (const ns of ['team-a', 'team-b']) {
        const binding = findObject(objects, 'RoleBinding', 'kennel-operator', ns) as unknown as V1RoleBinding;
        expect(binding.roleRef).to.deep.include({ kind: 'ClusterRole', name: 'kennel-operator' });
        expect(binding.subjects?.[0]).to.deep.include({ name: 'kennel', namespace: NS });
        findObject(objects, 'ServiceAccount', 'kennel-workload', ns);
      }
      findObject(objects, 'ServiceAccount', 'kennel-workload', NS);
      expect(objects.some((o) => o.kind === 'ClusterRoleBinding'), 'nothing cluster-wide').to.equal(false);
    });

    it('annotates the workload ServiceAccount for GKE Workload Identity', async function () {
      const gsa = 'kennel-worker@my-project.iam.gserviceaccount.com';
      const objects = await helmTemplate({
        ...requiredValues,
        workloads: { serviceAccount: { gcpServiceAccount: gsa, extraNamespaces: ['ml'] } },
      });
      for (const ns of [NS, 'ml']) {
        const sa = findObject(objects, 'ServiceAccount', 'kennel-workload', ns);
        expect(sa.metadata.annotations).to.deep.equal({ 'iam.gke.io/gcp-service-account': gsa });
      }
    });

    it('one replica without leader election: no Lease role, no PodDisruptionBudget', async function () {
      const objects = await helmTemplate({ ...requiredValues, operator: { replicas: 1, leaderElection: { enabled: false } } });
      expect(operatorDeployment(objects).spec?.replicas).to.equal(1);
      expect(operatorConfig(objects).KENNEL_LEADER_ELECT).to.equal('false');
      expect(objects.map((o) => o.kind)).to.not.include.members(['Role', 'PodDisruptionBudget']);
    });

    it('PodMonitoring, NetworkPolicy and the Grafana dashboard when enabled', async function () {
      const objects = await helmTemplate({
        ...requiredValues,
        monitoring: { podMonitoring: { enabled: true, interval: '15s' }, grafanaDashboard: { enabled: true } },
        networkPolicy: { enabled: true },
      });
      const monitoring = findObject(objects, 'PodMonitoring', 'kennel', NS) as KubeObject & {
        spec: { endpoints: { port: string; path: string; interval: string }[]; selector: { matchLabels: Record<string, string> } };
      };
      expect(monitoring.apiVersion).to.equal('monitoring.googleapis.com/v1');
      expect(monitoring.spec.endpoints).to.deep.equal([{ port: 'health', path: '/metrics', interval: '15s' }]);
      const podLabels = operatorDeployment(objects).spec?.template.metadata?.labels ?? {};
      expect(podLabels).to.deep.include(monitoring.spec.selector.matchLabels);

      const policy = findObject(objects, 'NetworkPolicy', 'kennel', NS) as unknown as V1NetworkPolicy;
      expect(policy.spec?.policyTypes).to.deep.equal(['Ingress']);
      expect(policy.spec?.ingress?.[0]?.ports).to.deep.equal([{ port: 'health', protocol: 'TCP' }]);
      // Plain YAML: the key is `from` (the client's V1 type names it `_from`).
      const from = (policy.spec?.ingress?.[0] as { from?: { namespaceSelector?: { matchLabels?: object } }[] } | undefined)?.from;
      expect(from?.[0]?.namespaceSelector?.matchLabels).to.deep.equal({
        'kubernetes.io/metadata.name': 'gmp-system',
      });

      const dashboard = findObject(objects, 'ConfigMap', 'kennel-dashboard', NS) as unknown as V1ConfigMap;
      expect(dashboard.metadata?.labels?.grafana_dashboard).to.equal('1');
      const json = JSON.parse(dashboard.data?.['kennel-dashboard.json'] ?? '') as { title: string };
      expect(json.title).to.match(/Kennel/);
    });

    it('ServiceMonitor (Prometheus Operator) with the Service it scrapes through, when enabled', async function () {
      const objects = await helmTemplate({ ...requiredValues, monitoring: { serviceMonitor: { enabled: true, interval: '20s', labels: { release: 'prom' } } } });
      const sm = findObject(objects, 'ServiceMonitor', 'kennel', NS) as KubeObject & {
        spec: { endpoints: { port: string; path: string; interval: string }[]; selector: { matchLabels: Record<string, string> } };
      };
      expect(sm.apiVersion).to.equal('monitoring.coreos.com/v1');
      expect(sm.metadata.labels?.release).to.equal('prom');
      expect(sm.spec.endpoints).to.deep.equal([{ port: 'health', path: '/metrics', interval: '20s' }]);
      const service = findObject(objects, 'Service', 'kennel-metrics', NS) as KubeObject & {
        metadata: { labels: Record<string, string> };
        spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
      };
      expect(service.metadata.labels).to.deep.include(sm.spec.selector.matchLabels);
      expect(service.spec.ports).to.deep.equal([{ name: 'health', port: 8081, targetPort: 'health', protocol: 'TCP' }]);
      const podLabels = operatorDeployment(objects).spec?.template.metadata?.labels ?? {};
      expect(podLabels).to.deep.include(service.spec.selector);
    });

    it('GCS emulator, image digests, custom gate, lease namespace and log level', async function () {
      const digest = `sha256:${'a'.repeat(64)}`;
      const objects = await helmTemplate({
        storage: { artifactRoot: 'gs://models/kennel', gcs: { auth: 'emulator', endpoint: 'http://127.0.0.1:4443' } },
        image: { operator: { repository: 'registry.example/kennel-operator', digest }, worker: { repository: 'registry.example/kennel-worker', tag: '1.2.3' } },
        evaluation: { minAccuracy: 0.92 },
        operator: { leaderElection: { namespace: 'kube-system' }, logLevel: 'debug' },
      });
      expect(operatorDeployment(objects).spec?.template.spec?.containers[0]?.image).to.equal(`registry.example/kennel-operator@${digest}`);
      expect(operatorConfig(objects)).to.deep.include({
        KENNEL_GCS_AUTH: 'emulator',
        KENNEL_GCS_ENDPOINT: 'http://127.0.0.1:4443',
        KENNEL_WORKER_IMAGE: 'registry.example/kennel-worker:1.2.3',
        KENNEL_GATE_MIN_ACCURACY: '0.92',
        KENNEL_LEASE_NAMESPACE: 'kube-system',
        KENNEL_LOG_LEVEL: 'debug',
      });
      findObject(objects, 'Role', 'kennel-leader-election', 'kube-system');
    });

    it('rbac.create=false renders no RBAC; extraRules are appended', async function () {
      const without = await helmTemplate({ ...requiredValues, rbac: { create: false } });
      expect(without.map((o) => o.kind)).to.not.include.members(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
      const extra = await helmTemplate({
        ...requiredValues,
        rbac: { extraRules: [{ apiGroups: ['kennel.dev'], resources: ['trainingruns/finalizers'], verbs: ['update'] }] },
      });
      const role = findObject(extra, 'ClusterRole', 'kennel-operator') as unknown as V1ClusterRole;
      expect(grants(role.rules ?? [])['kennel.dev/trainingruns/finalizers']).to.deep.equal(['update']);
    });
  });

  describe('values.schema.json and template checks reject wrong values with a clear message', function () {
    const cases: { name: string; values: object; message: RegExp }[] = [
      { name: 'replicas 0', values: { operator: { replicas: 0 } }, message: /operator\.replicas|replicas.*minimum/ },
      { name: 'replicas as a string', values: { operator: { replicas: 'two' } }, message: /replicas/ },
      { name: 'an unknown key (typo)', values: { operator: { replica: 2 } }, message: /additional properties 'replica' not allowed|replica/ },
      { name: 'log level', values: { operator: { logLevel: 'loud' } }, message: /logLevel/ },
      { name: 'gate above 1', values: { evaluation: { minAccuracy: 1.5 } }, message: /minAccuracy/ },
      { name: 'image tag latest', values: { image: { worker: { tag: 'latest' } } }, message: /worker.*tag|tag/ },
      { name: 'not a GCP service account', values: { workloads: { serviceAccount: { gcpServiceAccount: 'bob' } } }, message: /gcpServiceAccount/ },
      { name: 'artifact root on S3', values: { storage: { artifactRoot: 's3://bucket/x' } }, message: /artifactRoot/ },
      { name: 'bad namespace name', values: { operator: { watchNamespaces: ['Team_A'] } }, message: /watchNamespaces/ },
      { name: 'GCS auth mode', values: { storage: { gcs: { auth: 'keyfile' } } }, message: /auth/ },
      {
        name: 'two replicas without leader election',
        values: { operator: { replicas: 2, leaderElection: { enabled: false } } },
        message: /leaderElection\.enabled=true/,
      },
      {
        name: 'an emulator endpoint without auth=emulator',
        values: { storage: { gcs: { endpoint: 'http://127.0.0.1:4443' } } },
        message: /only used with storage\.gcs\.auth=emulator/,
      },
      { name: 'emulator without endpoint', values: { storage: { gcs: { auth: 'emulator' } } }, message: /needs storage\.gcs\.endpoint/ },
    ];
    for (const { name, values, message } of cases) {
      it(`${name}`, async function () {
        const merged = { ...values, storage: { ...requiredValues.storage, ...((values as { storage?: object }).storage ?? {}) } };
        const result = await helmTemplateRaw(merged);
        expect(result.code, `helm template accepted ${JSON.stringify(values)}`).to.not.equal(0);
        expect(result.stderr).to.match(message);
      });
    }

    it('not an offline render: `helm template` without --kube-version (Helm then assumes v1.20.0) renders, as GitOps renderers need', async function () {
      // No --kube-version: helm assumes v1.20.0 (this helm is built without release ldflags, like
      // the Helm some GitOps renderers embed), which is no cluster's version.
      const result = await withValuesFile(requiredValues, (file) => runHelm(['template', 'kennel', chartDir, '--namespace', 'kennel-system', '-f', file]));
      expect(result.code, result.stderr).to.equal(0);
      expect(parseManifests(result.stdout).some((o) => o.kind === 'Deployment')).to.equal(true);
    });

    it('a cluster older than Kubernetes 1.29', async function () {
      const result = await helmTemplateRaw(requiredValues, { extraArgs: ['--kube-version', '1.28.5'] });
      expect(result.code).to.not.equal(0);
      expect(result.stderr).to.include('Kennel needs Kubernetes 1.29 or newer').and.to.include('v1.28.5');
    });

    it('a missing artifact root', async function () {
      const result = await helmTemplateRaw({});
      expect(result.code).to.not.equal(0);
      expect(result.stderr).to.include('storage.artifactRoot is required');
    });
  });
});

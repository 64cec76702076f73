import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

/**
 * The alerting rules people install: the Managed Prometheus ClusterRules and the Prometheus
 * Operator PrometheusRule hold the same groups; promtool (Debian's prometheus package,
 * scripts/install-system-deps.sh) accepts them, and its rule unit tests show the alerts fire
 * when they must — KennelOperatorNoLeader also when no operator is up at all (no series).
 */

type RulesObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: { groups: unknown[] } };

const clusterRulesPath = join(repoRoot, 'examples/monitoring/kennel-rules.yaml');
const prometheusRulePath = join(repoRoot, 'examples/monitoring/prometheus-operator/kennel-prometheusrule.yaml');
const serviceMonitorPath = join(repoRoot, 'examples/monitoring/prometheus-operator/kennel-servicemonitor.yaml');

async function promtool(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is missing: run scripts/install-system-deps.sh (Debian package prometheus)');
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A promtool rule unit test: series given as promtool's expanding notation, alerts expected at an evaluation time. */
interface AlertCase {
  name: string;
  series: { series: string; values: string }[];
  evalTime: string;
  alert: string;
  /** The alert expected, with its labels and summary; undefined = must not fire. */
  fires?: { labels: Record<string, string>; summary: string };
}

const NO_LEADER = { labels: { severity: 'critical' }, summary: 'No Kennel operator replica holds the leader Lease (or none is up); nothing is reconciled.' };

const CASES: AlertCase[] = [
  { name: 'no operator up: no series at all', series: [], evalTime: '10m', alert: 'KennelOperatorNoLeader', fires: NO_LEADER },
  {
    name: 'two replicas up, neither leads',
    series: [
      { series: 'kennel_operator_leader{pod="kennel-a"}', values: '0x20' },
      { series: 'kennel_operator_leader{pod="kennel-b"}', values: '0x20' },
    ],
    evalTime: '10m',
    alert: 'KennelOperatorNoLeader',
    fires: NO_LEADER,
  },
  {
    name: 'one replica leads',
    series: [
      { series: 'kennel_operator_leader{pod="kennel-a"}', values: '1x20' },
      { series: 'kennel_operator_leader{pod="kennel-b"}', values: '0x20' },
    ],
    evalTime: '10m',
    alert: 'KennelOperatorNoLeader',
  },
  {
    name: 'errors in an application namespace (seen by cluster-wide rules)',
    series: [
      { series: 'kennel_serve_requests_total{namespace="shop",model="pets",version="3",route="predict",status="200"}', values: '0+60x30' },
      { series: 'kennel_serve_requests_total{namespace="shop",model="pets",version="3",route="predict",status="500"}', values: '0+6x30' },
    ],
    evalTime: '25m',
    alert: 'KennelServingErrors',
    fires: { labels: { severity: 'critical', namespace: 'shop', model: 'pets', version: '3' }, summary: 'pets 3: more than 1% of predictions fail.' },
  },
];

describe('alerting rules (examples/monitoring)', function () {
  this.timeout(60_000);
  let clusterRules: RulesObject;
  let dir: string;

  before(async function () {
    clusterRules = parse(await readFile(clusterRulesPath, 'utf8')) as RulesObject;
    dir = await mkdtemp(join(tmpdir(), 'kennel-rules-'));
    await writeFile(join(dir, 'rules.yaml'), stringify({ groups: clusterRules.spec.groups }));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Managed Prometheus: a cluster-scoped ClusterRules (a namespaced Rules sees only its own namespace\'s series)', function () {
    expect(clusterRules).to.deep.include({ apiVersion: 'monitoring.googleapis.com/v1', kind: 'ClusterRules' });
    expect(clusterRules.metadata.namespace).to.equal(undefined);
  });

  it('Prometheus Operator: a PrometheusRule with the same groups, and a ServiceMonitor of the serving Services in every namespace', async function () {
    const rule = parse(await readFile(prometheusRulePath, 'utf8')) as RulesObject;
    expect(rule).to.deep.include({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(rule.spec.groups).to.deep.equal(clusterRules.spec.groups);
    const sm = parse(await readFile(serviceMonitorPath, 'utf8')) as { kind: string; spec: { namespaceSelector: unknown; selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    expect(sm.kind).to.equal('ServiceMonitor');
    expect(sm.spec.namespaceSelector).to.deep.equal({ any: true });
    // The labels and the port name every InferenceService's Service has (src/operator/inference-service/desired.ts).
    const { desiredServingObjects } = await import('../../src/operator/inference-service/desired.js');
    const { exampleInferenceService } = await import('../fixtures/api-examples.js');
    const isvc = { ...exampleInferenceService('web'), metadata: { name: 'web', namespace: 'shop', uid: 'u' } };
    const service = desiredServingObjects(isvc, {}, { image: 'x', podMonitoringAvailable: false }).service;
    expect(service.metadata?.labels).to.include(sm.spec.selector.matchLabels);
    expect(service.spec?.ports?.map((p) => p.name)).to.include(sm.spec.endpoints[0]?.port);
    expect(sm.spec.endpoints[0]?.path).to.equal('/metrics');
  });

  it('promtool check rules accepts them', async function () {
    const { code, out } = await promtool(['check', 'rules', 'rules.yaml'], dir);
    expect(code, out).to.equal(0);
  });

  it('promtool rule unit tests: the alerts fire when they must', async function () {
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '30s',
      tests: CASES.map((c) => ({
        interval: '1m',
        input_series: c.series,
        alert_rule_test: [
          { eval_time: c.evalTime, alertname: c.alert, exp_alerts: c.fires ? [{ exp_labels: c.fires.labels, exp_annotations: { summary: c.fires.summary } }] : [] },
        ],
      })),
    };
    await writeFile(join(dir, 'tests.yaml'), stringify(tests));
    const { code, out } = await promtool(['test', 'rules', 'tests.yaml'], dir);
    expect(code, out).to.equal(0);
  });
});

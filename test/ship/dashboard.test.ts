import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from './paths.js';

/**
 * The Grafana dashboard queries only metrics and labels that Kennel's code defines: a renamed
 * metric fails here instead of leaving an empty panel in production.
 */

const dashboardPath = join(repoRoot, 'charts/kennel/dashboards/kennel-dashboard.json');
const rulesPath = join(repoRoot, 'examples/monitoring/kennel-rules.yaml');

type MetricType = 'Counter' | 'Gauge' | 'Histogram' | 'Summary';
type MetricDef = { type: MetricType; labels: string[]; file: string };
type Panel = { type: string; title: string; targets?: { expr: string }[]; panels?: Panel[] };
type Dashboard = { title: string; uid: string; panels: Panel[]; templating: { list: { name: string; query: unknown; definition?: string }[] } };

/** Labels the scrape adds to every series (Managed Prometheus target labels, Prometheus job/instance). */
const TARGET_LABELS = ['namespace', 'pod', 'container', 'instance', 'job', 'cluster', 'location', 'project_id'];

/** Every `new Counter|Gauge|Histogram|Summary({ name: 'kennel_…', labelNames: [...] })` in src/ (tests excluded). */
async function metricDefinitions(): Promise<Map<string, MetricDef>> {
  const defs = new Map<string, MetricDef>();
  const src = join(repoRoot, 'src');
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\s*\{([\s\S]*?)\}\s*\)/g)) {
      const body = m[2] ?? '';
      const name = /name:\s*'(kennel_[a-z0-9_]+)'/.exec(body)?.[1];
      if (!name) continue;
      const labels = [...(/labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '').matchAll(/'([a-z_]+)'/g)].map((l) => l[1] as string);
      defs.set(name, { type: m[1] as MetricType, labels, file });
    }
  }
  return defs;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function expressions(dashboard: Dashboard): string[] {
  const fromPanels = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const fromVariables = dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : []));
  return [...fromPanels, ...fromVariables];
}

type Rules = { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };

/** Metric name and suffix of each kennel_ series referenced in a PromQL expression. */
function referencedSeries(expr: string): { series: string; base: string; suffix: string }[] {
  return [...expr.matchAll(/\bkennel_[a-z0-9_]+/g)].map((m) => {
    const series = m[0];
    const suffix = /_(bucket|sum|count)$/.exec(series)?.[1] ?? '';
    return { series, base: suffix ? series.slice(0, -(suffix.length + 1)) : series, suffix };
  });
}

/** Label names a PromQL expression groups by or matches on ({{ $labels.x }} templates aside). */
function referencedLabels(expr: string): string[] {
  const labels: string[] = [];
  expr = expr.replace(/\{\{[^}]*\}\}/g, '');
  for (const m of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) labels.push(...(m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of (m[1] ?? '').matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)) labels.push(matcher[1] as string);
  }
  return labels;
}

describe('Grafana dashboard', function () {
  let dashboard: Dashboard;
  let defs: Map<string, MetricDef>;
  before(async function () {
    dashboard = JSON.parse(await readFile(dashboardPath, 'utf8')) as Dashboard;
    defs = await metricDefinitions();
  });

  it('finds Kennel’s metric definitions in the source (the check below has something to check against)', function () {
    expect(defs.get('kennel_serve_predictions_total')?.type).to.equal('Counter');
    expect(defs.get('kennel_serve_request_duration_seconds')?.type).to.equal('Histogram');
    expect(defs.get('kennel_operator_training_runs')?.labels).to.deep.equal(['phase']);
  });

  it('covers predictions per class, latency, confidence vs baseline, live accuracy, rollouts/rollbacks, training runs', function () {
    const titles = allPanels(dashboard.panels).map((p) => p.title.toLowerCase()).join('\n');
    for (const topic of ['predictions per class', 'latency', 'baseline', 'accuracy', 'rollbacks', 'training runs by phase']) {
      expect(titles).to.include(topic);
    }
    const variables = dashboard.templating.list.map((v) => v.name);
    expect(variables).to.include.members(['datasource', 'model', 'baseline']);
  });

  it('uses only metric names the code defines, with suffixes that fit their type', function () {
    const used = expressions(dashboard).flatMap(referencedSeries);
    expect(used.length).to.be.greaterThan(10);
    for (const { series, base, suffix } of used) {
      const def = defs.get(base) ?? defs.get(series);
      expect(def, `${series} is not defined in src/ (grep "name: '${base}'")`).to.not.equal(undefined);
      if (suffix && defs.has(base)) expect(def?.type, `${series}: _${suffix} needs a Histogram or Summary`).to.be.oneOf(['Histogram', 'Summary']);
      if (def?.type === 'Histogram' && !suffix) expect.fail(`${series} is a Histogram: query _bucket, _sum or _count`);
    }
  });

  it('groups and filters only on labels those metrics have', function () {
    for (const expr of expressions(dashboard)) {
      const metrics = referencedSeries(expr).map(({ base, series }) => defs.get(base) ?? defs.get(series));
      const allowed = new Set([...TARGET_LABELS, 'le', ...metrics.flatMap((d) => d?.labels ?? [])]);
      for (const label of referencedLabels(expr)) expect(allowed.has(label), `label "${label}" in ${expr}`).to.equal(true);
    }
  });

  describe('alerting rules (examples/monitoring/kennel-rules.yaml)', function () {
    let rules: { alert: string; expr: string }[];
    before(async function () {
      rules = (parse(await readFile(rulesPath, 'utf8')) as Rules).spec.groups.flatMap((g) => g.rules);
    });

    it('use only metric names and labels the code defines', function () {
      expect(rules.length).to.be.greaterThanOrEqual(5);
      for (const { alert, expr } of rules) {
        const used = referencedSeries(expr);
        expect(used, alert).to.not.deep.equal([]);
        const metrics = used.map(({ base, series }) => {
          const def = defs.get(base) ?? defs.get(series);
          expect(def, `${alert}: ${series} is not defined in src/`).to.not.equal(undefined);
          return def;
        });
        const allowed = new Set([...TARGET_LABELS, 'le', ...metrics.flatMap((d) => d?.labels ?? [])]);
        for (const label of referencedLabels(expr)) expect(allowed.has(label), `${alert}: label "${label}"`).to.equal(true);
      }
    });
  });
});

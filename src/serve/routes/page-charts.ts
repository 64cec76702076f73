import type Router from '@koa/router';
import { HttpError } from '../../shared/errors.js';
import { renderConfusionSvg } from '../../shared/charts/confusion-svg.js';
import { renderCurvesSvg } from '../../shared/charts/curves-svg.js';
import { renderHistogramSvg } from '../../shared/charts/histogram-svg.js';
import { renderReliabilitySvg } from '../../shared/charts/reliability-svg.js';
import type { AppDeps } from '../context.js';
import { evaluationView, type EvaluationView } from '../evaluation-view.js';
import { liveSummary } from '../live-summary.js';
import type { ServeContext } from './common.js';

/** The charts of the page, each drawn from the served version's metrics.json (or, `live-confidence`, its live counters). */
export const PAGE_CHARTS = ['confusion', 'curves', 'reliability', 'live-confidence'] as const;
export type PageChart = (typeof PAGE_CHARTS)[number];

/** Which of the page's charts this version can draw (its metrics.json has what they need). */
export function availableCharts(view: EvaluationView): PageChart[] {
  const out: PageChart[] = [];
  if (view.confusionMatrix) out.push('confusion');
  if (view.history) out.push('curves');
  if (view.calibration) out.push('reliability');
  out.push('live-confidence');
  return out;
}

const isChart = (name: string): name is PageChart => (PAGE_CHARTS as readonly string[]).includes(name);

/**
 * `GET /charts/<name>.svg`: the report's charts drawn on the server by src/shared/charts (the
 * page shows them as images, so no server text is ever inserted into it as HTML), and the live
 * confidence histogram against the test split's. 404 for a chart the version has no data for,
 * 503 before the model is loaded.
 */
export function addChartRoutes(router: Router, deps: AppDeps): void {
  router.get('/charts/:name.svg', async (ctx: ServeContext) => {
    ctx.state.route = 'charts';
    const name = String(ctx.params.name);
    const model = deps.model.current;
    if (!model) throw new HttpError(503, 'NotReady', 'model is still loading');
    const view = evaluationView(model.evaluation, model.classes);
    if (!isChart(name) || !availableCharts(view).includes(name)) throw new HttpError(404, 'RouteNotFound', `no chart "${name.slice(0, 40)}" for this model version`);
    ctx.set('Cache-Control', name === 'live-confidence' ? 'no-store' : 'max-age=60');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.type = 'image/svg+xml';
    ctx.body = await renderChart(name, view, deps);
  });
}

async function renderChart(name: PageChart, view: EvaluationView, deps: AppDeps): Promise<string> {
  const model = deps.model.current;
  const classes = model?.classes ?? [];
  switch (name) {
    case 'confusion':
      return renderConfusionSvg(classes, view.confusionMatrix ?? []);
    case 'curves':
      return renderCurvesSvg(view.history ?? [], view.bestEpoch ?? 0);
    case 'reliability':
      return renderReliabilitySvg(view.calibration?.reliability ?? [], view.calibration?.expectedCalibrationError ?? 0);
    case 'live-confidence': {
      const live = await liveSummary(deps.registry, deps.identity, classes, model?.evaluation);
      const series = [{ label: `live (${live.confidence.live.reduce((a, b) => a + b, 0)})`, color: '#e0672b', counts: live.confidence.live }];
      if (live.confidence.baseline) series.push({ label: 'test split (baseline)', color: '#4a78c2', counts: live.confidence.baseline });
      return renderHistogramSvg('Confidence: live against the baseline', series);
    }
  }
}

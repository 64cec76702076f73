import type Router from '@koa/router';
import type { AppDeps } from '../context.js';
import { evaluationView } from '../evaluation-view.js';
import { liveSummary } from '../live-summary.js';
import type { ServeContext } from './common.js';
import { PAGE_HTML } from './page-html.js';
import { addChartRoutes, availableCharts } from './page-charts.js';

const CSP = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'";

/** Metadata fields shown on the page and /api/model (never storage credentials or paths). */
const SHOWN_METADATA = ['classes', 'inputShape', 'preprocessing', 'hyperparameters', 'architecture', 'backend', 'codeVersion', 'createdAt', 'dataset', 'sha256'] as const;

/**
 * `GET /`: the try-it page; `GET /api/model`: what the page shows about the model; `GET
 * /api/live`: the live panel's figures (see liveSummary); `GET /charts/<name>.svg`: its charts.
 */
export function addPageRoutes(router: Router, deps: AppDeps): void {
  router.get('/', (ctx: ServeContext) => {
    ctx.state.route = 'page';
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE_HTML;
  });

  router.get('/api/model', (ctx: ServeContext) => {
    ctx.state.route = 'info';
    const model = deps.model.current;
    const metadata: Record<string, unknown> = {};
    for (const key of SHOWN_METADATA) if (model?.metadata?.[key] !== undefined) metadata[key] = model.metadata[key];
    ctx.body = {
      name: deps.identity.name,
      version: deps.identity.version,
      versionRecorded: deps.identity.versionRecorded ?? true,
      ready: deps.readiness.ready,
      phase: deps.readiness.state.phase,
      classes: model?.classes ?? [],
      inputSize: model?.size ?? null,
      backend: model?.backend ?? null,
      metadata,
      evaluation: model?.evaluation ?? null,
      charts: model ? availableCharts(evaluationView(model.evaluation, model.classes)) : [],
    };
  });

  router.get('/api/live', async (ctx: ServeContext) => {
    ctx.state.route = 'live';
    const model = deps.model.current;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await liveSummary(deps.registry, deps.identity, model?.classes ?? [], model?.evaluation);
  });

  addChartRoutes(router, deps);
}

import { setTimeout } from 'node:timers';
import type Router from '@koa/router';
import type { AppDeps } from '../context.js';
import type { ServeContext } from './common.js';

/** How long /metrics waits for the workers' tensor counts before answering without them. */
const STATS_TIMEOUT_MS = 500;

/**
 * `/healthz` (the process answers), `/readyz` (the model is loaded and warmed up; otherwise 503
 * with the phase and, after a failed load, the reason) and `/metrics` (Prometheus text).
 */
export function addHealthRoutes(router: Router, deps: AppDeps): void {
  router.get('/healthz', (ctx: ServeContext) => {
    ctx.state.route = 'healthz';
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', (ctx: ServeContext) => {
    ctx.state.route = 'readyz';
    const state = deps.readiness.state;
    if (state.phase === 'ready') {
      ctx.body = { status: 'ready', model: deps.identity.name, version: deps.identity.version };
      return;
    }
    ctx.status = 503;
    ctx.body =
      state.phase === 'failed'
        ? { error: `model failed to load: ${state.message}`, phase: state.phase, reason: state.reason }
        : { error: state.phase === 'loading' ? 'model is loading' : 'server is shutting down', phase: state.phase };
  });

  router.get('/metrics', async (ctx: ServeContext) => {
    ctx.state.route = 'metrics';
    const model = deps.model.current;
    if (model) {
      const stats = await Promise.race([model.predictor.stats(), new Promise<undefined>((resolve) => void setTimeout(() => resolve(undefined), STATS_TIMEOUT_MS).unref())]).catch(() => undefined);
      if (stats) deps.metrics.setTensors(stats.numTensors);
    }
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });
}

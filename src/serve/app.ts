import Router from '@koa/router';
import Koa from 'koa';
import type { AppDeps, ServeState } from './context.js';
import { requestMiddleware } from './request-middleware.js';
import { addFeedbackRoute } from './routes/feedback.js';
import { addHealthRoutes } from './routes/health.js';
import { addKServeV1Routes } from './routes/kserve-v1.js';
import { addOipV2Routes } from './routes/oip-v2.js';
import { addPageRoutes } from './routes/page.js';
import { addPredictRoute } from './routes/predict.js';

/**
 * Builds the inference server's koa app from its dependencies: the request middleware
 * (request id, errors → JSON, metrics, one log line) outermost, then the routes. No I/O here;
 * server.ts (`startServe`) wires the real model and listener, and tests wire a small real one.
 */
export function createApp(deps: AppDeps): Koa<ServeState> {
  const app = new Koa<ServeState>({ proxy: false });
  // Errors are answered and logged by requestMiddleware; silence koa's default stderr printer.
  app.silent = true;
  const router = new Router();
  addPageRoutes(router, deps);
  addPredictRoute(router, deps);
  addFeedbackRoute(router, deps);
  addHealthRoutes(router, deps);
  addKServeV1Routes(router, deps);
  addOipV2Routes(router, deps);
  app.use(requestMiddleware(deps));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}

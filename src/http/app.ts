/**
 * The HTTP API: one module per resource adds its routes to one Hono app; every
 * failure becomes `{"error":{"code","message"}}` through `errorResponse`.
 */
import { Hono } from "hono";
import type { DatabaseSync } from "node:sqlite";
import type { Config } from "../config.ts";
import { errorBody, quote } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Reputation } from "../reputation/mod.ts";
import { mountBatchRoutes } from "./batch.ts";
import { mountHealthRoutes } from "./health.ts";
import { type HttpMetrics, instrument } from "./http_metrics.ts";
import { mountObjectRoutes } from "./objects.ts";
import { errorResponse } from "./responses.ts";

/** Everything the API needs, passed in. */
export interface AppDeps {
  config: Config;
  db: DatabaseSync;
  reputation: Reputation;
  metrics: HttpMetrics;
  log: Logger;
}

/** Builds the Hono app. */
export function createApp(deps: AppDeps): Hono {
  const { config, metrics, log } = deps;
  const app = new Hono();
  if (config.log.requests) {
    app.use(async function logRequest(c, next): Promise<void> {
      const started = performance.now();
      await next();
      log.info(`${c.req.method} ${c.req.path}`, {
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
    });
  }
  const instrumentDeps = { metrics, log };
  mountHealthRoutes(app, { ...instrumentDeps, db: deps.db });
  mountObjectRoutes(app, { ...instrumentDeps, reputation: deps.reputation });
  mountBatchRoutes(app, {
    ...instrumentDeps,
    reputation: deps.reputation,
    maxItems: config.lookup.maxBatchItems,
    maxBodyBytes: config.lookup.maxBodyBytes,
  });
  const unmatched = instrument("unmatched", instrumentDeps, function notFound(c): Response {
    return c.json(errorBody("not_found", `No route for ${quote(c.req.path)}`), 404);
  });
  app.notFound((c) => unmatched(c, () => Promise.resolve()) as Response);
  app.onError(function toErrorResponse(err, c): Response {
    // Only errors outside the instrumented handlers get here (for example in Hono itself).
    const response = errorResponse(err, c.req.raw, log);
    metrics.requests.inc("unmatched", String(response.status));
    return response;
  });
  return app;
}

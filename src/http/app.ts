/**
 * The HTTP API: sub-apps mounted on one Hono app, one middleware for metrics and
 * one error handler that turns every failure into `{"error":{"code","message"}}`.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { DatabaseSync } from "node:sqlite";
import type { Config } from "../config.ts";
import { AppError, errorBody, quote } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Reputation } from "../reputation/mod.ts";
import { batchRoutes } from "./batch.ts";
import { healthRoutes } from "./health.ts";
import type { HttpMetrics } from "./http_metrics.ts";
import { recordRequests } from "./http_metrics.ts";
import { objectRoutes } from "./objects.ts";

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
  app.use(recordRequests(metrics));
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
  app.route("/", healthRoutes({ db: deps.db, metrics }));
  app.route("/", objectRoutes({ reputation: deps.reputation, metrics }));
  app.route(
    "/",
    batchRoutes({
      reputation: deps.reputation,
      metrics,
      maxItems: config.lookup.maxBatchItems,
      maxBodyBytes: config.lookup.maxBodyBytes,
    }),
  );
  app.notFound(function notFound(c): Response {
    return c.json(errorBody("not_found", `No route for ${quote(c.req.path)}`), 404);
  });
  app.onError(function toErrorResponse(err, c): Response {
    if (err instanceof AppError) {
      return c.json(errorBody(err.code, err.message), err.status as 400, err.headers);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      return c.json(errorBody("http_error", err.message || `HTTP ${status}`), status);
    }
    log.error(`Unhandled error on ${c.req.method} ${c.req.path}: ${(err as Error)?.stack ?? err}`);
    return c.json(errorBody("internal_error", "Internal error; the node's log has details"), 500);
  });
  return app;
}

/** Liveness, readiness and Prometheus metrics. None of these need a licence. */
import type { Hono } from "hono";
import { AppError } from "../core/mod.ts";
import { type DatabaseSync, SCHEMA_VERSION, schemaVersion } from "../store/mod.ts";
import { allowOnly, instrument, type InstrumentDeps } from "../http/mod.ts";

/** What the health routes need. */
export interface HealthRoutesDeps extends InstrumentDeps {
  db: DatabaseSync;
}

/** Adds `/healthz`, `/readyz` and `/metrics` to `app`. */
export function mountHealthRoutes(app: Hono, deps: HealthRoutesDeps): void {
  app.get(
    "/healthz",
    instrument("/healthz", deps, function alive(c): Response {
      return c.json({ status: "ok" });
    }),
  );
  app.get(
    "/readyz",
    instrument("/readyz", deps, function ready(c): Response {
      let version: number;
      try {
        version = schemaVersion(deps.db);
      } catch (err) {
        throw new AppError(
          "unavailable",
          "not_ready",
          `Database is not open: ${(err as Error).message}`,
        );
      }
      if (version !== SCHEMA_VERSION) {
        throw new AppError(
          "unavailable",
          "not_ready",
          `Database is at schema version ${version}, expected ${SCHEMA_VERSION}`,
        );
      }
      return c.json({ status: "ready", schemaVersion: version });
    }),
  );
  app.get(
    "/metrics",
    instrument("/metrics", deps, function metrics(c): Response {
      return c.body(deps.metrics.registry.render(), 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
      });
    }),
  );
  for (const path of ["/healthz", "/readyz", "/metrics"]) allowOnly(app, path, ["GET"], deps);
}

/** 405 answers for routes that exist but not for the request's method. */
import type { Hono } from "hono";
import { AppError, quote } from "../core/mod.ts";
import { instrument, type InstrumentDeps } from "./http_metrics.ts";

/** Registers a catch-all for `path` that answers 405 with an `Allow` header. */
export function allowOnly(
  app: Hono,
  path: string,
  methods: readonly string[],
  deps: InstrumentDeps,
): void {
  const allowed = methods.includes("GET") ? [...methods, "HEAD"] : [...methods];
  const allow = allowed.join(", ");
  app.all(
    path,
    instrument(path, deps, function methodNotAllowed(c): never {
      throw new AppError(
        "not_allowed",
        "method_not_allowed",
        `Method ${quote(c.req.method)} is not allowed on ${quote(c.req.path)}: use ${allow}`,
        { allow: allowed },
      );
    }),
  );
}

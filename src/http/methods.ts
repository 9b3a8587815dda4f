/** 405 answers for routes that exist but not for the request's method. */
import type { Hono } from "hono";
import { AppError, quote } from "../core/errors.ts";
import { instrument, type InstrumentDeps } from "./http_metrics.ts";

/** Registers a catch-all for `path` that answers 405 with an `Allow` header. */
export function allowOnly(
  app: Hono,
  path: string,
  methods: readonly string[],
  deps: InstrumentDeps,
): void {
  const allow = methods.includes("GET") ? [...methods, "HEAD"].join(", ") : methods.join(", ");
  app.all(
    path,
    instrument(path, deps, function methodNotAllowed(c): never {
      throw new AppError(
        405,
        "method_not_allowed",
        `Method ${quote(c.req.method)} is not allowed on ${quote(c.req.path)}: use ${allow}`,
        { headers: { Allow: allow } },
      );
    }),
  );
}

/** `GET /admin/api/samples`: the samples the quarantine keeps and whether each waits to go upstream. */
import type { Hono } from "hono";
import { z } from "zod";
import { allowOnly, type InstrumentDeps } from "../http/mod.ts";
import type { SampleStore } from "../samples/mod.ts";
import { NO_STORE, parse, type SessionGuard } from "./_route_kit.ts";

const PATH = "/admin/api/samples";
/** The query of `GET /admin/api/samples`. */
export const samplesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Adds the samples route to `app`, behind `guard`. */
export function mountSamplesAdminRoutes(
  app: Hono,
  deps: InstrumentDeps & { samples: Pick<SampleStore, "list"> },
  guard: SessionGuard,
): void {
  app.get(
    PATH,
    guard(PATH, function samples(c): Response {
      const { limit } = parse(samplesQuery, c.req.query(), "samples query");
      return c.json(deps.samples.list(limit), 200, NO_STORE);
    }),
  );
  allowOnly(app, PATH, ["GET"], deps);
}

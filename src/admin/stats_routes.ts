/**
 * The operator's statistics endpoints under `/admin/api/stats`: the days with
 * their counts, one day's counts by verdict and threat, and a packed day's TAR.
 * All are GET and need the admin session like every other admin route.
 */
import type { Hono } from "hono";
import { AppError, type Clock, quote } from "../core/mod.ts";
import { allowOnly, type InstrumentDeps } from "../http/mod.ts";
import { archiveOf, dayCounts, listDays, parseDate, utcDate } from "../stats/mod.ts";
import { NO_STORE, type SessionGuard } from "./_route_kit.ts";

/** What the statistics admin routes need. */
export interface StatsAdminDeps {
  /** The statistics folder, `DATA/stats`. */
  dir: string;
  clock: Clock;
}

const BASE = "/admin/api/stats";

/** Adds the statistics admin routes to `app`, each behind `guard`. */
export function mountStatsAdminRoutes(
  app: Hono,
  deps: InstrumentDeps & { stats: StatsAdminDeps },
  guard: SessionGuard,
): void {
  const { dir, clock } = deps.stats;
  app.get(
    BASE,
    guard(BASE, async function statsDays(c): Promise<Response> {
      return c.json({ today: utcDate(clock.now()), days: await listDays(dir) }, 200, NO_STORE);
    }),
  );
  app.get(
    `${BASE}/:date`,
    guard(`${BASE}/:date`, async function statsDay(c): Promise<Response> {
      const date = parseDate(c.req.param("date") ?? "");
      return c.json(await dayCounts(dir, date), 200, NO_STORE);
    }),
  );
  app.get(
    `${BASE}/:date/archive`,
    guard(`${BASE}/:date/archive`, async function statsArchive(c): Promise<Response> {
      const date = parseDate(c.req.param("date") ?? "");
      if (date >= utcDate(clock.now())) {
        throw new AppError(
          "not_found",
          "stats_not_found",
          `No statistics archive for ${
            quote(date)
          }: today's statistics are packed after midnight (UTC)`,
        );
      }
      const path = await archiveOf(dir, date);
      const file = await Deno.open(path, { read: true });
      let size: number;
      try {
        size = (await file.stat()).size;
      } catch (err) {
        file.close();
        throw err;
      }
      return new Response(file.readable, {
        status: 200,
        headers: {
          ...NO_STORE,
          "Content-Type": "application/x-tar",
          "Content-Length": String(size),
          "Content-Disposition": `attachment; filename="pksn-stats-${date}.tar"`,
        },
      });
    }),
  );
  allowOnly(app, BASE, ["GET"], deps);
  allowOnly(app, `${BASE}/:date`, ["GET"], deps);
  allowOnly(app, `${BASE}/:date/archive`, ["GET"], deps);
}

/**
 * `GET /v1/statement` (no licence needed: a client must read it before it can
 * accept it), `POST /v1/participation` and `GET /v1/node`.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { AppError, InvalidInputError } from "../core/mod.ts";
import {
  CLIENT_MODES,
  type LicenceAuthenticator,
  type NodeParticipation,
} from "../licences/mod.ts";
import { OBJECT_TYPES, type ReputationIndex } from "../reputation/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, readJson } from "../http/mod.ts";

/** What the participation routes need. */
export interface ParticipationRoutesDeps extends InstrumentDeps {
  auth: LicenceAuthenticator;
  participation: NodeParticipation;
  index: () => ReputationIndex;
  maxBodyBytes: number;
  /** The sync figures (version, lag, freshness …) when this node follows a feed. */
  sync?: () => object;
  /** The KSN proxy's state, when it is on. */
  proxy?: () => object;
}

/** The body of `POST /v1/participation`: the client's choice. */
export const choiceSchema = z.strictObject({
  mode: z.enum(CLIENT_MODES, { error: `expected one of ${CLIENT_MODES.join(", ")}` }),
  statementVersion: z.number().int().min(1).optional(),
});

/** Adds the statement, participation and node summary routes to `app`. */
export function mountParticipationRoutes(app: Hono, deps: ParticipationRoutesDeps): void {
  const { auth, participation } = deps;
  app.get(
    "/v1/statement",
    instrument("/v1/statement", deps, function statement(c): Response {
      // The statement the node enforces, so a client is never refused the version it was shown.
      const current = participation.statement;
      if (!current) throw new AppError("unavailable", "not_ready", "No KSN Statement is loaded");
      return c.json(current);
    }),
  );
  app.post(
    "/v1/participation",
    instrument("/v1/participation", deps, async function choose(c): Promise<Response> {
      const licence = auth.authenticate(c.req.raw.headers, { quota: false });
      const parsed = choiceSchema.safeParse(await readJson(c, deps.maxBodyBytes));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidInputError(
          "invalid_request",
          `Invalid participation choice${
            issue.path.length ? ` "${issue.path.join(".")}"` : ""
          }: ${issue.message}`,
        );
      }
      const chosen = auth.choose(licence, parsed.data.mode, parsed.data.statementVersion);
      return c.json({
        mode: chosen.mode,
        statementVersion: chosen.statementVersion,
        currentStatementVersion: participation.statementVersion,
      });
    }),
  );
  app.get(
    "/v1/participation",
    instrument("/v1/participation", deps, function current(c): Response {
      const licence = auth.authenticate(c.req.raw.headers, { quota: false });
      return c.json({
        mode: licence.mode,
        statementVersion: licence.statementVersion,
        currentStatementVersion: participation.statementVersion,
        allowedModes: licence.modes.includes("none") ? licence.modes : [...licence.modes, "none"],
      });
    }),
  );
  app.get(
    "/v1/node",
    instrument("/v1/node", deps, function node(c): Response {
      auth.authenticate(c.req.raw.headers, { quota: false });
      const index = deps.index();
      const records: Record<string, number> = {};
      for (const type of OBJECT_TYPES) {
        records[type] = index.counts[type].mirror + index.counts[type].local;
      }
      return c.json({
        participation: participation.state,
        mirror: {
          records,
          indexBuiltAt: new Date(index.builtAt).toISOString(),
          sync: deps.sync?.() ?? null,
        },
        proxy: deps.proxy?.() ?? { enabled: false },
      });
    }),
  );
  allowOnly(app, "/v1/statement", ["GET"], deps);
  allowOnly(app, "/v1/participation", ["GET", "POST"], deps);
  allowOnly(app, "/v1/node", ["GET"], deps);
}

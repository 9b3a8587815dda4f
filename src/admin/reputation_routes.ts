/**
 * The operator's reputation endpoints: `GET /admin/api/lookup` (a look-up without a licence:
 * the admin session is the authority) and the local overrides under `/admin/api/overrides`
 * (list, add, edit, remove, import a list). Every write rebuilds the index before it answers,
 * so the next look-up sees it; expired overrides are removed before the overrides are read.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppError, type Clock, InvalidInputError, quote } from "../core/mod.ts";
import { allowOnly, type InstrumentDeps, readBytes, readJson } from "../http/mod.ts";
import {
  LocalOverrides,
  OBJECT_TYPES,
  overrideAddSchema,
  overrideEditSchema,
  overrideListSchema,
  overrideTargetSchema,
  type Reputation,
} from "../reputation/mod.ts";
import type { DatabaseSync } from "../store/mod.ts";
import { BODY_LIMIT, NO_STORE, parse, type SessionGuard } from "./_route_kit.ts";

/** What the reputation admin routes need. */
export interface ReputationAdminDeps {
  reputation: Pick<Reputation, "lookup">;
  db: DatabaseSync;
  /** Rebuilds the look-up index after a write, so the next look-up answers it. */
  refreshIndex(): Promise<unknown>;
  clock: Clock;
}

const LOOKUP = "/admin/api/lookup";
const OVERRIDES = "/admin/api/overrides";
const IMPORT = "/admin/api/overrides/import";
/** A list to import is one value a line; 1 MiB holds some 16,000 SHA-256 hashes. */
const LIST_LIMIT = 1024 * 1024;
const DEFAULT_LIMIT = 100;

// A look-up names its object as an override does: a type and a value.
/** The query of `GET /admin/api/lookup`. */
export const lookupQuery = overrideTargetSchema;
/** The query of `GET /admin/api/overrides`. */
export const overrideQuery = z.strictObject({
  type: z.enum(OBJECT_TYPES, { error: `expected one of ${OBJECT_TYPES.join(", ")}` })
    .optional(),
  q: z.string().max(200).optional(),
  limit: z.string().regex(/^(?:[1-9]\d{0,2}|1000)$/, { error: "expected a number from 1 to 1000" })
    .transform(Number).optional(),
});

/** Adds the look-up and override routes to `app`, each behind `guard`. */
export function mountReputationAdminRoutes(
  app: Hono,
  deps: InstrumentDeps & { reputation: ReputationAdminDeps },
  guard: SessionGuard,
): void {
  const { reputation, db, refreshIndex, clock } = deps.reputation;
  const overrides = new LocalOverrides({ db, clock });
  // Before the overrides are read or changed, so an expired one is neither listed nor edited.
  const expire = async (): Promise<void> => {
    if (overrides.expireOverrides(clock.now()) > 0) await refreshIndex();
  };

  app.get(
    LOOKUP,
    guard(LOOKUP, function adminLookup(c): Response {
      const query = parse(lookupQuery, c.req.query(), "look-up");
      return c.json(reputation.lookup(query.type, query.value), 200, NO_STORE);
    }),
  );

  app.get(
    OVERRIDES,
    guard(OVERRIDES, async function listOverrides(c): Promise<Response> {
      const query = parse(overrideQuery, c.req.query(), "override query");
      await expire();
      const found = overrides.list({
        type: query.type,
        q: query.q,
        limit: query.limit ?? DEFAULT_LIMIT,
      });
      return c.json(found, 200, NO_STORE);
    }),
  );

  app.post(
    OVERRIDES,
    guard(OVERRIDES, async function addOverride(c, session): Promise<Response> {
      const body = parse(overrideAddSchema, await readJson(c, BODY_LIMIT), "override");
      await expire();
      const added = overrides.add(body, actorOf(session.username));
      await refreshIndex();
      return c.json({ override: added.override }, added.replaced ? 200 : 201, NO_STORE);
    }),
  );

  app.patch(
    OVERRIDES,
    guard(OVERRIDES, async function editOverride(c, session): Promise<Response> {
      const body = parse(overrideEditSchema, await readJson(c, BODY_LIMIT), "override");
      if (body.verdict === undefined && body.reason === undefined && body.expires === undefined) {
        throw new InvalidInputError(
          "invalid_request",
          'Invalid override: give at least one of "verdict", "reason", "expires" to change',
        );
      }
      await expire();
      const override = overrides.edit(body, actorOf(session.username));
      await refreshIndex();
      return c.json({ override }, 200, NO_STORE);
    }),
  );

  app.delete(
    OVERRIDES,
    guard(OVERRIDES, async function removeOverride(c, session): Promise<Response> {
      const body = parse(overrideTargetSchema, await readJson(c, BODY_LIMIT), "override");
      await expire();
      overrides.remove(body, actorOf(session.username));
      await refreshIndex();
      return c.body(null, 204, NO_STORE);
    }),
  );

  app.post(
    IMPORT,
    guard(IMPORT, async function importOverrides(c, session): Promise<Response> {
      const options = parse(overrideListSchema, c.req.query(), "override import");
      const text = await readList(c);
      await expire();
      const imported = overrides.importList(text, options, actorOf(session.username));
      await refreshIndex();
      return c.json({ imported }, 201, NO_STORE);
    }),
  );

  allowOnly(app, LOOKUP, ["GET"], deps);
  allowOnly(app, OVERRIDES, ["GET", "POST", "PATCH", "DELETE"], deps);
  allowOnly(app, IMPORT, ["POST"], deps);
}

/** Who an admin change is recorded as, in the audit log and as the override's source. */
function actorOf(username: string): string {
  return `admin:${username}`;
}

/** A `text/plain` UTF-8 body of at most {@link LIST_LIMIT} bytes. */
async function readList(c: Context): Promise<string> {
  const type = c.req.header("content-type");
  if (type?.split(";", 1)[0].trim().toLowerCase() !== "text/plain") {
    throw new AppError(
      "unsupported",
      "unsupported_media_type",
      `Unsupported content type ${
        quote(type ?? "(none)")
      }: send the list as "text/plain", one value a line`,
    );
  }
  if (c.req.raw.body === null) return "";
  const bytes = await readBytes(c, LIST_LIMIT);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidInputError("invalid_list", "Cannot import the list: it is not UTF-8 text");
  }
}

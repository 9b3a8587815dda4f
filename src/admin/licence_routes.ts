/**
 * The operator's licence endpoints under `/admin/api/`: list and filter, register, change,
 * revoke, rotate and import licences, read the audit log, and read or publish the KSN
 * Statement. Each calls the same service as the `pksn license` and `pksn statement` commands,
 * audits as `admin:<username>`, and needs the admin session (and its CSRF token for changes).
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppError, InvalidInputError, quote } from "../core/mod.ts";
import { allowOnly, type InstrumentDeps, readBytes, readJson } from "../http/mod.ts";
import {
  CLIENT_MODES,
  LICENCE_STATES,
  type LicenceView,
  parseDate,
  type readLicenceCsv,
  readLicenceCsvStream,
} from "../licences/mod.ts";
import type { Node } from "../node/mod.ts";
import { BODY_LIMIT, NO_STORE, parse, readOptionalJson, type SessionGuard } from "./_route_kit.ts";

/** What the licence admin routes need. */
export interface LicenceAdminDeps extends InstrumentDeps {
  node: Pick<Node, "licences" | "auth" | "participation">;
}

const BASE = "/admin/api";
/** A CSV import or a statement: far more than the 16 KiB of other admin bodies, yet bounded. */
const LARGE_BODY_LIMIT = 1024 * 1024;
const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = z.iso.datetime({ offset: true });

// A plain HTML form sends its empty fields as `name=`; those mean "no filter".
const query = <T extends z.ZodRawShape>(shape: T) =>
  z.preprocess(
    (q) => Object.fromEntries(Object.entries(q as Record<string, string>).filter(([, v]) => v)),
    z.strictObject(shape),
  );
/** The query of `GET /admin/api/licences`. */
export const listQuery = query({
  q: z.string().max(200).optional(),
  state: z.enum(LICENCE_STATES, { error: `expected one of ${LICENCE_STATES.join(", ")}` })
    .optional(),
});
/** The query of `GET /admin/api/audit`. */
export const auditQuery = query({
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
  licence: z.string().regex(/^\d{1,15}$/, "expected a licence id").optional(),
  limit: z.string().regex(/^\d{1,4}$/, "expected a whole number from 1 to 1000")
    .transform(Number).pipe(z.number().min(1, "expected at least 1").max(1000)).optional(),
});
const dateText = z.string().max(40);
const quota = z.number().int().min(1).max(1_000_000_000).nullable();
const modes = z.array(z.enum(CLIENT_MODES, { error: `expected ${CLIENT_MODES.join(", ")}` }))
  .min(1).max(CLIENT_MODES.length);
const notes = z.string().max(1000).nullable();
/** The body of `POST /admin/api/licences`. */
export const addSchema = z.strictObject({
  customer: z.string().trim().min(1).max(200),
  expires: dateText,
  validFrom: dateText.optional(),
  quota: quota.optional(),
  modes: modes.optional(),
  notes: notes.optional(),
});
/** The body of `PATCH /admin/api/licences/{id}`. */
export const changeSchema = z.strictObject({
  expires: dateText.optional(),
  quota: quota.optional(),
  modes: modes.optional(),
  notes: notes.optional(),
});
/** The body of `POST /admin/api/licences/{id}/revoke`. */
export const revokeSchema = z.strictObject({ reason: z.string().max(500).optional() });
/** The body of `POST /admin/api/licences/{id}/rotate`. */
export const rotateSchema = z.strictObject({
  graceHours: z.number().int().min(0).max(720).optional(),
});
/** The body of `POST /admin/api/statement`. */
export const statementSchema = z.strictObject({ text: z.string() });

/** Adds the licence, audit and statement admin routes to `app`, each behind `guard`. */
export function mountLicenceAdminRoutes(
  app: Hono,
  deps: LicenceAdminDeps,
  guard: SessionGuard,
): void {
  const { node } = deps;
  const path = (p: string): string => `${BASE}/${p}`;

  app.get(
    path("licences"),
    guard(path("licences"), function licences(c): Response {
      const filter = parse(listQuery, c.req.query(), "licence filter");
      const found = node.licences.list({ text: filter.q, state: filter.state });
      return c.json({ licences: found }, 200, NO_STORE);
    }),
  );

  app.post(
    path("licences"),
    guard(path("licences"), async function addLicence(c, session): Promise<Response> {
      const body = parse(addSchema, await readJson(c, BODY_LIMIT), "licence");
      const added = node.licences.add({
        customer: body.customer,
        expires: unixSeconds(body.expires, "expires", true),
        validFrom: body.validFrom === undefined
          ? undefined
          : unixSeconds(body.validFrom, "validFrom"),
        quota: body.quota,
        modes: body.modes,
        notes: body.notes,
      }, actorOf(session.username));
      // A key tried before it was registered is cached as unknown.
      node.auth.invalidate();
      return c.json(added, 201, NO_STORE);
    }),
  );

  // Registered before `licences/:id`, so "import" is never taken for an id.
  app.post(
    path("licences/import"),
    guard(path("licences/import"), async function importLicences(c, session): Promise<Response> {
      const type = c.req.header("content-type")?.split(";", 1)[0].trim().toLowerCase();
      if (type !== "text/csv") {
        throw new AppError(
          "unsupported",
          "unsupported_media_type",
          `Unsupported content type ${quote(type ?? "(none)")}: expected "text/csv"`,
        );
      }
      const rows = await readCsvBody(await readBytes(c, LARGE_BODY_LIMIT));
      let added: LicenceView[];
      try {
        added = node.licences.addMany(rows, actorOf(session.username));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        throw new AppError(err.kind, err.code, `${err.message}\nNothing imported`, {
          ...err.details,
          cause: err,
        });
      }
      node.auth.invalidate();
      return c.json({ imported: added.length, licences: added }, 201, NO_STORE);
    }),
  );
  allowOnly(app, path("licences/import"), ["POST"], deps);

  app.patch(
    path("licences/:id"),
    guard(path("licences/:id"), async function changeLicence(c, session): Promise<Response> {
      const id = licenceId(c);
      const body = parse(changeSchema, await readJson(c, BODY_LIMIT), "licence change");
      if (Object.keys(body).length === 0) {
        throw new InvalidInputError(
          "invalid_request",
          "Invalid licence change: give at least one of expires, quota, modes, notes",
        );
      }
      const licence = node.licences.update(id, {
        expires: body.expires === undefined
          ? undefined
          : unixSeconds(body.expires, "expires", true),
        quota: body.quota,
        modes: body.modes,
        notes: body.notes,
      }, actorOf(session.username));
      node.auth.invalidate();
      return c.json({ licence }, 200, NO_STORE);
    }),
  );

  app.post(
    path("licences/:id/revoke"),
    guard(path("licences/:id/revoke"), async function revoke(c, session): Promise<Response> {
      const id = licenceId(c);
      const body = parse(revokeSchema, await readOptionalJson(c), "revocation");
      const licence = node.licences.revoke(id, actorOf(session.username), body.reason);
      // Effective on the next look-up in this process; other processes see the generation bump.
      node.auth.invalidate();
      return c.json({ licence }, 200, NO_STORE);
    }),
  );

  app.post(
    path("licences/:id/rotate"),
    guard(path("licences/:id/rotate"), async function rotate(c, session): Promise<Response> {
      const id = Number(licenceId(c));
      const body = parse(rotateSchema, await readOptionalJson(c), "rotation");
      const rotated = node.licences.rotateById(
        id,
        { graceSeconds: (body.graceHours ?? 24) * 3600 },
        actorOf(session.username),
      );
      node.auth.invalidate();
      return c.json(rotated, 200, NO_STORE);
    }),
  );

  app.get(
    path("audit"),
    guard(path("audit"), function audit(c): Response {
      const q = parse(auditQuery, c.req.query(), "audit filter");
      const entries = node.licences.auditLog(q.limit ?? 100, {
        action: q.action,
        actor: q.actor,
        licenceId: q.licence === undefined ? undefined : Number(q.licence),
      });
      return c.json({ entries }, 200, NO_STORE);
    }),
  );

  app.get(
    path("statement"),
    guard(path("statement"), function statement(c): Response {
      return c.json(statementAnswer(deps), 200, NO_STORE);
    }),
  );

  app.post(
    path("statement"),
    guard(path("statement"), async function publish(c, session): Promise<Response> {
      const body = parse(statementSchema, await readJson(c, LARGE_BODY_LIMIT), "statement");
      node.licences.publishStatement(body.text, actorOf(session.username));
      // As `pksn statement load` does: clients must accept the new version from now on.
      node.participation.reload();
      return c.json(statementAnswer(deps), 201, NO_STORE);
    }),
  );

  allowOnly(app, path("licences"), ["GET", "POST"], deps);
  allowOnly(app, path("licences/:id"), ["PATCH"], deps);
  allowOnly(app, path("licences/:id/revoke"), ["POST"], deps);
  allowOnly(app, path("licences/:id/rotate"), ["POST"], deps);
  allowOnly(app, path("audit"), ["GET"], deps);
  allowOnly(app, path("statement"), ["GET", "POST"], deps);
}

function actorOf(username: string): string {
  return `admin:${username}`;
}

/** The `{id}` path parameter; a key is refused, so keys never travel in URLs and logs. */
function licenceId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!/^\d{1,15}$/.test(id)) {
    throw new InvalidInputError("invalid_request", `Invalid licence id ${quote(id)}`);
  }
  return id;
}

/**
 * A date as Unix seconds: `YYYY-MM-DD` as the CLI reads it (an expiry date is valid through
 * that day, UTC), or an ISO 8601 date-time with its offset, taken as it is.
 */
function unixSeconds(text: string, field: string, endOfDay = false): number {
  if (DAY_ONLY.test(text.trim())) return parseDate(text, field, endOfDay);
  if (!DATE_TIME.safeParse(text.trim()).success) {
    throw new InvalidInputError(
      "invalid_date",
      `Invalid ${field} ${quote(text)}: expected a date as YYYY-MM-DD or an ISO 8601 ` +
        `date-time such as "2027-01-31T23:59:59Z"`,
    );
  }
  return Math.floor(Date.parse(text.trim()) / 1000);
}

/** The licences of a CSV body in the `pksn license import` format; errors name the line. */
async function readCsvBody(bytes: Uint8Array): Promise<Awaited<ReturnType<typeof readLicenceCsv>>> {
  if (new TextDecoder().decode(bytes).trim() === "") {
    throw new InvalidInputError(
      "invalid_csv",
      "CSV body is empty: expected a header row naming key, customer and expires",
    );
  }
  return await readLicenceCsvStream(
    ReadableStream.from([bytes]),
    (line) => `Line ${line}`,
    "the CSV body",
  );
}

function statementAnswer(deps: LicenceAdminDeps): Record<string, unknown> {
  const { participation } = deps.node;
  const current = participation.statement;
  if (current === undefined) {
    throw new AppError("not_found", "statement_not_found", "This node has no KSN Statement yet");
  }
  return {
    version: current.version,
    text: current.text,
    publishedAt: current.publishedAt,
    acceptedVersion: participation.state.statementAcceptedVersion,
  };
}

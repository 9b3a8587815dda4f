/**
 * The admin API under `/admin/api/`: first-run setup, login and logout, and the
 * operator's licence and participation endpoints. Every route but setup and
 * login needs the session cookie; every state-changing one also needs the
 * session's CSRF token. Every request's `Host`, and its `Origin` when the browser
 * sends one, must name an allowed origin (see `origins.ts`), which stops
 * cross-site requests and DNS rebinding. A licence key never opens an admin
 * route: only the cookie is read.
 */
import type { Context, Handler, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError, quote } from "../core/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, readJson } from "../http/mod.ts";
import { NODE_MODES } from "../licences/mod.ts";
import type { Node } from "../node/mod.ts";
import {
  type AdminAuth,
  adminExists,
  type AdminSession,
  checkAccount,
  SESSION_COOKIE,
} from "./auth.ts";
import type { AllowedOrigins } from "./origins.ts";
import type { SetupToken } from "./setup_token.ts";
import { mountLicenceAdminRoutes } from "./licence_routes.ts";
import { mountStatsAdminRoutes, type StatsAdminDeps } from "./stats_routes.ts";
import { type BundleUpload, mountSyncAdminRoutes, type SyncNow } from "./sync_routes.ts";
import { mountSamplesAdminRoutes } from "./samples_routes.ts";
import type { SampleStore } from "../samples/mod.ts";
import { mountReputationAdminRoutes, type ReputationAdminDeps } from "./reputation_routes.ts";
import { mountUpgradeAdminRoutes } from "./upgrade_routes.ts";
import type { UpgradeSpool } from "../upgrade/mod.ts";
import { BODY_LIMIT, NO_STORE, parse } from "./_route_kit.ts";

/** What the admin routes need. */
export interface AdminRoutesDeps extends InstrumentDeps {
  auth: AdminAuth;
  /** The first-run token; null when an account existed at start-up. */
  setup: SetupToken | null;
  node: Pick<Node, "licences" | "auth" | "participation">;
  /** The statistics folder behind `/admin/api/stats`, mounted only when given. */
  stats?: StatsAdminDeps;
  /** The mirror sync behind `POST /admin/api/sync`; null or absent when the node follows no feed. */
  sync?: SyncNow | null;
  /** Applying uploaded offline bundles; null or absent without a trusted root (sync.root). */
  bundles?: BundleUpload | null;
  /** The quarantine behind `GET /admin/api/samples`, mounted only when given. */
  samples?: Pick<SampleStore, "list">;
  /** The look-up and local overrides behind `/admin/api/lookup` and `/overrides`, when given. */
  reputation?: ReputationAdminDeps;
  /** The appliance upgrade spool behind `/admin/api/upgrade`; null or absent unless enabled. */
  upgrades?: Pick<UpgradeSpool, "report" | "accept"> | null;
}

/** The admin API base path. */
export const ADMIN_API = "/admin/api";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The body of `POST /admin/api/setup`. */
export const setupSchema = z.strictObject({
  token: z.string().max(200),
  username: z.string().max(64),
  password: z.string().max(4096),
});
/** The body of `POST /admin/api/login`. */
export const loginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(4096),
});
/** The body of `POST /admin/api/participation`. */
export const participationSchema = z.strictObject({
  mode: z.enum(NODE_MODES, { error: `expected one of ${NODE_MODES.join(", ")}` }),
  acceptStatement: z.boolean().optional(),
});

/** Adds the admin API routes to `app`. */
export function mountAdminRoutes(app: Hono, deps: AdminRoutesDeps): void {
  const { auth, node } = deps;
  const path = (p: string): string => `${ADMIN_API}/${p}`;

  app.post(
    path("setup"),
    instrument(path("setup"), deps, async function setup(c): Promise<Response> {
      requireAllowedOrigin(c, auth.origins);
      const body = parse(setupSchema, await readJson(c, BODY_LIMIT), "admin setup");
      if (auth.hasAccount()) throw adminExists();
      if (deps.setup === null || !deps.setup.matches(body.token)) {
        throw new AppError(
          "forbidden",
          "setup_token_invalid",
          "Setup token is wrong or already used: use the token from this run's log",
        );
      }
      checkAccount(body.username, body.password);
      // Used up before the slow hashing, so two requests cannot both get through.
      if (!deps.setup.consume(body.token)) {
        throw new AppError("forbidden", "setup_token_invalid", "Setup token is already used");
      }
      await auth.setPassword(body.username, body.password, { actor: "setup", firstOnly: true });
      return c.json({ username: body.username }, 201, NO_STORE);
    }),
  );

  app.post(
    path("login"),
    instrument(path("login"), deps, async function login(c): Promise<Response> {
      requireAllowedOrigin(c, auth.origins);
      const body = parse(loginSchema, await readJson(c, BODY_LIMIT), "admin login");
      const session = await auth.login(body.username, body.password, clientAddress(c));
      return c.json(
        { username: session.username, csrfToken: session.csrfToken, expiresAt: session.expiresAt },
        200,
        { ...NO_STORE, "Set-Cookie": auth.sessionCookie(session) },
      );
    }),
  );

  app.post(
    path("logout"),
    withSession(path("logout"), deps, function logout(c): Response {
      auth.logout(getCookie(c, SESSION_COOKIE)!);
      return c.body(null, 204, { "Set-Cookie": auth.clearedCookie() });
    }),
  );

  app.get(
    path("session"),
    withSession(path("session"), deps, function session(c, current): Response {
      return c.json(current, 200, NO_STORE);
    }),
  );

  app.get(
    path("participation"),
    withSession(path("participation"), deps, function participation(c): Response {
      return c.json(node.participation.state, 200, NO_STORE);
    }),
  );

  app.post(
    path("participation"),
    withSession(path("participation"), deps, async function setMode(c, current): Promise<Response> {
      const body = parse(participationSchema, await readJson(c, BODY_LIMIT), "participation");
      const state = node.participation.set(body.mode, {
        acceptStatement: body.acceptStatement,
        actor: `admin:${current.username}`,
      });
      return c.json(state, 200, NO_STORE);
    }),
  );

  allowOnly(app, path("setup"), ["POST"], deps);
  allowOnly(app, path("login"), ["POST"], deps);
  allowOnly(app, path("logout"), ["POST"], deps);
  allowOnly(app, path("session"), ["GET"], deps);
  allowOnly(app, path("participation"), ["GET", "POST"], deps);
  mountLicenceAdminRoutes(app, deps, (r, h) => withSession(r, deps, h));
  if (deps.samples) {
    const samples = deps.samples;
    mountSamplesAdminRoutes(app, { ...deps, samples }, (r, h) => withSession(r, deps, h));
  }
  mountSyncAdminRoutes(
    app,
    { ...deps, sync: deps.sync ?? null, bundles: deps.bundles ?? null },
    (r, h) => withSession(r, deps, h),
  );
  mountUpgradeAdminRoutes(
    app,
    { ...deps, upgrades: deps.upgrades ?? null },
    (r, h) => withSession(r, deps, h),
  );
  if (deps.stats) {
    mountStatsAdminRoutes(app, { ...deps, stats: deps.stats }, (r, h) => withSession(r, deps, h));
  }
  if (deps.reputation) {
    const reputationDeps = { ...deps, reputation: deps.reputation };
    mountReputationAdminRoutes(app, reputationDeps, (r, h) => withSession(r, deps, h));
  }
}

/**
 * Wraps an admin handler: 403 unless the request comes from an allowed origin,
 * 401 `admin_auth_required` without a valid session cookie, and for
 * state-changing methods 403 `csrf_failed` without the session's `X-CSRF-Token`.
 */
function withSession(
  route: string,
  deps: AdminRoutesDeps,
  handler: (c: Context, session: AdminSession) => Response | Promise<Response>,
): Handler {
  const { auth } = deps;
  return instrument(route, deps, function authenticated(c): Response | Promise<Response> {
    requireAllowedOrigin(c, auth.origins);
    const id = getCookie(c, SESSION_COOKIE);
    const session = id === undefined ? null : auth.session(id);
    if (session === null) {
      throw new AppError(
        "unauthorized",
        "admin_auth_required",
        "Admin login required: POST /admin/api/login",
      );
    }
    if (STATE_CHANGING.has(c.req.method)) {
      const token = c.req.header("x-csrf-token");
      if (token === undefined || !sameSecret(token, session.csrfToken)) {
        throw csrfFailed(
          token === undefined
            ? "CSRF token missing: send the session's csrfToken in the X-CSRF-Token header"
            : "CSRF token does not match this session",
        );
      }
    }
    return handler(c, session);
  });
}

/**
 * 403 `host_not_allowed` unless `Host` names an allowed origin, and 403
 * `csrf_failed` when the browser sends an `Origin` that is not allowed. Requests
 * without `Origin` (curl, same-origin GETs) pass on their `Host` alone.
 */
export function requireAllowedOrigin(c: Context, origins: AllowedOrigins): void {
  // HTTP/2 carries the authority in the URL rather than a Host header.
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  if (!origins.allowsHost(host)) {
    throw new AppError(
      "forbidden",
      "host_not_allowed",
      `Admin request refused: host ${
        quote(host)
      } is not this node's address or in admin.allowedOrigins`,
    );
  }
  const origin = c.req.header("origin");
  if (origin !== undefined && !origins.allowsOrigin(origin)) {
    throw csrfFailed(
      `Cross-origin request refused: origin ${
        quote(origin)
      } is not this node's address or in admin.allowedOrigins`,
    );
  }
}

function csrfFailed(message: string): AppError {
  return new AppError("forbidden", "csrf_failed", message);
}

function sameSecret(a: string, b: string): boolean {
  const digest = (text: string): Uint8Array => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function clientAddress(c: Context): string {
  const info = c.env as Partial<Deno.ServeHandlerInfo<Deno.NetAddr>> | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

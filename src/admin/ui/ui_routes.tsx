/** @jsxImportSource hono/jsx */
/**
 * The admin web UI under `/admin/`: pages rendered by the node from its own data, with the
 * security headers of `headers.ts`; every change is made by the page's script through the
 * admin API, so curl can do all of it too. Pages need the admin session (else they send the
 * browser to sign in, or to set up on first run) and, like the API, an allowed Host.
 */
import type { Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import type { Child } from "hono/jsx";
import type { Clock } from "../../core/mod.ts";
import { instrument, type InstrumentDeps } from "../../http/mod.ts";
import type { Node } from "../../node/mod.ts";
import { dayCounts, isDate, listDays } from "../../stats/mod.ts";
import { type AdminAuth, type AdminSession, SESSION_COOKIE } from "../auth.ts";
import { requireAllowedOrigin } from "../routes.ts";
import { APP_CSS } from "./assets/app_css.ts";
import { APP_JS } from "./assets/app_js.ts";
import { DashboardPage } from "./dashboard_page.tsx";
import { dashboardFigures, type DashboardSources } from "./dashboard_data.ts";
import { PAGE_HEADERS } from "./headers.ts";
import { LicencesPage } from "./licences_page.tsx";
import { ParticipationPage } from "./participation_page.tsx";
import {
  type AuditLine,
  AuditPage,
  type SamplesView,
  StatisticsPage,
  SyncPage,
  type SyncView,
} from "./records_pages.tsx";
import { ReputationPage, type ReputationView } from "./reputation_page.tsx";
import { LoginPage, SetupPage } from "./sign_in_pages.tsx";
import { SystemPage, type SystemView } from "./system_page.tsx";

/** What the web UI needs. */
export interface AdminUiDeps extends InstrumentDeps {
  auth: AdminAuth;
  node: Pick<Node, "licences" | "participation" | "config" | "auth">;
  clock: Clock;
  dashboard: DashboardSources;
  statsDir: string;
  /** The sync service's report and recent runs, when the node follows a feed. */
  sync: (() => Record<string, unknown>) | null;
  syncRuns: (() => SyncView["runs"]) | null;
  /** Licences filtered as `GET /admin/api/licences?q=&state=` filters them. */
  licences: (q: string, state: string) => ReturnType<Node["licences"]["list"]>;
  /** Audit entries filtered as `GET /admin/api/audit` filters them. */
  audit: (filter: { action: string; actor: string }) => AuditLine[];
  /** The quarantine's samples, when the node keeps them. */
  samples: (() => SamplesView) | null;
  /** The system page's version report and, on the appliance, the upgrade's. */
  system: () => Promise<SystemView>;
  /** The reputation page's look-up result and overrides. */
  reputation: (query: { type: string; value: string }) => ReputationView;
}

/** The UI as one of `createApp`'s routers: it gets the app's metrics and log when mounted. */
export function adminUiRouter(
  deps: Omit<AdminUiDeps, keyof InstrumentDeps>,
): (app: Hono, instrumentDeps: InstrumentDeps) => void {
  return (app, instrumentDeps) => mountAdminUi(app, { ...instrumentDeps, ...deps });
}

/** Adds the web UI's pages and assets to `app`. */
export function mountAdminUi(app: Hono, deps: AdminUiDeps): void {
  const { auth } = deps;
  const asset = (path: string, type: string, body: string): void => {
    app.get(
      path,
      instrument(
        path,
        deps,
        (c) =>
          c.body(body, 200, { ...PAGE_HEADERS, "Content-Type": type, "Cache-Control": "no-cache" }),
      ),
    );
  };
  asset("/admin/assets/app.css", "text/css; charset=utf-8", APP_CSS);
  asset("/admin/assets/app.js", "text/javascript; charset=utf-8", APP_JS);

  app.get("/admin", instrument("/admin", deps, (c) => c.redirect("/admin/", 308)));
  app.get(
    "/admin/setup",
    instrument("/admin/setup", deps, (c) => {
      requireAllowedOrigin(c, auth.origins);
      return auth.hasAccount() ? c.redirect("/admin/login", 303) : page(c, <SetupPage />);
    }),
  );
  app.get(
    "/admin/login",
    instrument("/admin/login", deps, (c) => {
      requireAllowedOrigin(c, auth.origins);
      if (!auth.hasAccount()) return c.redirect("/admin/setup", 303);
      return sessionOf(c, auth) ? c.redirect("/admin/", 303) : page(c, <LoginPage />);
    }),
  );

  const signedIn = (
    route: string,
    render: (c: Context, session: AdminSession) => Child | Promise<Child>,
  ): void => {
    app.get(
      route,
      instrument(route, deps, async (c) => {
        requireAllowedOrigin(c, auth.origins);
        const session = sessionOf(c, auth);
        if (session === null) {
          return c.redirect(auth.hasAccount() ? "/admin/login" : "/admin/setup", 303);
        }
        return page(c, await render(c, session));
      }),
    );
  };
  signedIn(
    "/admin/",
    async (_c, session) => (
      <DashboardPage f={await dashboardFigures(deps.dashboard)} session={session} />
    ),
  );
  signedIn("/admin/participation", (_c, session) => (
    <ParticipationPage
      state={deps.node.participation.state}
      statement={deps.node.participation.statement}
      session={session}
    />
  ));
  signedIn("/admin/licences", (c, session) => {
    const q = c.req.query("q") ?? "";
    const state = c.req.query("state") ?? "";
    return (
      <LicencesPage
        licences={deps.licences(q, state)}
        usage={(id) => deps.node.auth.usage(id)}
        q={q}
        state={state}
        session={session}
      />
    );
  });
  signedIn("/admin/reputation", (c, session) => (
    <ReputationPage
      view={deps.reputation({
        type: c.req.query("type") ?? "file",
        value: c.req.query("value") ?? "",
      })}
      session={session}
    />
  ));
  signedIn("/admin/statistics", async (c, session) => {
    const wanted = c.req.query("day") ?? "";
    const day = isDate(wanted) ? await dayCounts(deps.statsDir, wanted).catch(() => null) : null;
    return (
      <StatisticsPage
        days={await listDays(deps.statsDir).catch(() => [])}
        day={day}
        samples={deps.samples?.() ?? null}
        session={session}
      />
    );
  });
  signedIn("/admin/audit", (c, session) => {
    const filter = { action: c.req.query("action") ?? "", actor: c.req.query("actor") ?? "" };
    return <AuditPage entries={deps.audit(filter)} filter={filter} session={session} />;
  });
  signedIn(
    "/admin/system",
    async (_c, session) => <SystemPage view={await deps.system()} session={session} />,
  );
  signedIn("/admin/sync", (_c, session) => {
    const { sync } = deps.node.config;
    return (
      <SyncPage
        sync={{
          url: sync.url,
          root: sync.root,
          intervalSeconds: sync.intervalSeconds,
          report: deps.sync?.() ?? null,
          runs: deps.syncRuns?.() ?? [],
        }}
        session={session}
      />
    );
  });
}

function sessionOf(c: Context, auth: AdminAuth): AdminSession | null {
  const id = getCookie(c, SESSION_COOKIE);
  return id === undefined ? null : auth.session(id);
}

function page(c: Context, body: Child): Response | Promise<Response> {
  return c.html(`<!doctype html>${body}`, 200, PAGE_HEADERS);
}

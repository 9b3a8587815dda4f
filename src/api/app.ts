/**
 * The HTTP API: one module per resource adds its routes to one Hono app; every
 * failure becomes `{"error":{"code","message"}}` through `errorResponse`.
 */
import { Hono } from "hono";
import { type Config, errorBody, type Logger, quote } from "../core/mod.ts";
import type { Node } from "../node/mod.ts";
import type { SampleStore } from "../samples/mod.ts";
import type { StatsIngest } from "../stats/mod.ts";
import { mountBatchRoutes } from "./batch.ts";
import { mountFeedRoutes } from "./feed.ts";
import { mountHealthRoutes } from "./health.ts";
import {
  errorResponse,
  type HttpMetrics,
  instrument,
  type InstrumentDeps,
  type RouteDoc,
} from "../http/mod.ts";
import { type LookupProxy, mountObjectRoutes } from "./objects.ts";
import { AnswerText } from "./answer_text.ts";
import { fastLookups } from "./fast_lookups.ts";
import { mountParticipationRoutes } from "./participation.ts";
import { mountSampleRoutes } from "./samples.ts";
import { mountStatsRoutes } from "./stats.ts";
import { mountHashlookupRoutes } from "./compat/hashlookup.ts";
import { mountVirusTotalRoutes } from "./compat/virustotal.ts";
import { NetworkList } from "../reputation/mod.ts";
import { readMirrorState } from "../feed/mod.ts";
import { mountOpenApiRoute, PUBLIC_ROUTE_DOCS } from "./openapi/route.ts";

/** Everything the API needs, passed in. */
export interface AppDeps {
  config: Config;
  node: Pick<Node, "db" | "reputation" | "auth" | "participation" | "index">;
  metrics: HttpMetrics;
  log: Logger;
  /**
   * Further routers (the admin API), mounted after the public API's routes and before the
   * answer for unmatched paths, given the same metrics and log.
   */
  routers?: ReadonlyArray<(app: Hono, instrumentDeps: InstrumentDeps) => void>;
  /**
   * The further routers' route descriptions (the admin API's), for `/openapi.json`. They come in
   * here, from `cli/serve`, because `api/` and `admin/` must not import each other.
   */
  docs?: readonly RouteDoc[];
  /** The quarantine behind `POST /v1/samples`, mounted only when given. */
  samples?: SampleStore;
  /** Statistics ingestion behind `POST /v1/stats`, mounted only when given. */
  stats?: StatsIngest;
  /** The sync figures for `/v1/node`, when this node follows a feed. */
  sync?: () => object;
  /** The verified feed tree served at `/feed/`, when this node serves one. */
  feedDir?: string;
  /** The KSN proxy, when `proxy.enabled`: asked about what nothing here answers. */
  proxy?: LookupProxy & { report(): object };
}

/** Builds the Hono app. */
export function createApp(deps: AppDeps): Hono {
  const { config, metrics, log } = deps;
  const app = new Hono();
  if (config.log.requests) {
    app.use(async function logRequest(c, next): Promise<void> {
      const started = performance.now();
      await next();
      log.info(`${c.req.method} ${c.req.path}`, {
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
    });
  }
  const { node } = deps;
  const instrumentDeps = { metrics, log };
  const guard = config.auth.required
    ? (headers: Headers): unknown => node.auth.authenticateForLookup(headers)
    : null;
  mountHealthRoutes(app, { ...instrumentDeps, db: node.db });
  mountParticipationRoutes(app, {
    ...instrumentDeps,
    auth: node.auth,
    participation: node.participation,
    index: () => node.index.current,
    maxBodyBytes: config.lookup.maxBodyBytes,
    sync: deps.sync,
    proxy: deps.proxy ? () => deps.proxy!.report() : undefined,
  });
  const proxy = deps.proxy;
  const answers = new AnswerText();
  const objects = { ...instrumentDeps, reputation: node.reputation, guard, proxy, answers };
  mountObjectRoutes(app, objects);
  mountBatchRoutes(app, {
    ...instrumentDeps,
    reputation: node.reputation,
    guard,
    maxItems: config.lookup.maxBatchItems,
    maxBodyBytes: config.lookup.maxBodyBytes,
    budgetMs: config.lookup.batchBudgetMs,
    proxy,
    answers,
  });
  if (config.compat.hashlookup || config.compat.virustotal) {
    const compat = {
      ...instrumentDeps,
      reputation: node.reputation,
      access: { guard, allow: new NetworkList(config.compat.allow, "compat.allow") },
      proxy,
      maxBatchItems: config.lookup.maxBatchItems,
      maxBodyBytes: config.lookup.maxBodyBytes,
    };
    if (config.compat.hashlookup) {
      mountHashlookupRoutes(app, {
        ...compat,
        index: () => node.index.current,
        mirrorVersion: () => readMirrorState(node.db).version || null,
      });
    }
    if (config.compat.virustotal) mountVirusTotalRoutes(app, compat);
  }
  if (deps.samples) {
    mountSampleRoutes(app, {
      ...instrumentDeps,
      auth: node.auth,
      samples: deps.samples,
      maxSampleBytes: config.stats.maxSampleBytes,
    });
  }
  if (deps.stats) {
    mountStatsRoutes(app, {
      ...instrumentDeps,
      auth: node.auth,
      ingest: deps.stats,
      maxBatchRecords: config.stats.maxBatchRecords,
      maxBatchBytes: config.stats.maxBatchBytes,
    });
  }
  if (deps.feedDir !== undefined) {
    mountFeedRoutes(app, {
      ...instrumentDeps,
      dir: deps.feedDir,
      auth: config.sync.feedRequiresLicence ? node.auth : null,
    });
  }
  for (const mount of deps.routers ?? []) mount(app, instrumentDeps);
  // Last, so the document sees every route registered before it.
  mountOpenApiRoute(app, { ...instrumentDeps, docs: [...PUBLIC_ROUTE_DOCS, ...deps.docs ?? []] });
  const unmatched = instrument("unmatched", instrumentDeps, function notFound(c): Response {
    return c.json(errorBody("not_found", `No route for ${quote(c.req.path)}`), 404);
  });
  app.notFound((c) => unmatched(c, () => Promise.resolve()) as Response);
  app.onError(function toErrorResponse(err, c): Response {
    // Only errors outside the instrumented handlers get here (for example in Hono itself).
    const response = errorResponse(err, c.req.raw, log);
    metrics.requests.inc("unmatched", String(response.status));
    return response;
  });
  // Request logging is a Hono middleware: with it on, every request goes through Hono.
  if (!config.log.requests) {
    const fast = fastLookups(objects);
    const routed = app.fetch;
    app.fetch = function fetchFastFirst(request, env, executionCtx): Response | Promise<Response> {
      return fast(request) ?? routed(request, env, executionCtx);
    };
  }
  return app;
}

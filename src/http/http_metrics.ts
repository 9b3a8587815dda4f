/** The HTTP-facing metrics and the middleware that records them. */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "../metrics.ts";
import { OBJECT_TYPES, type ReputationIndex } from "../reputation/mod.ts";

/** Metrics the HTTP layer updates. */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter;
  lookupSeconds: Histogram;
  verdicts: Counter;
}

const LATENCY_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];

/** Creates the registry with the HTTP metrics and the records-by-type gauge. */
export function createHttpMetrics(index: () => ReputationIndex): HttpMetrics {
  const registry = new Registry();
  const requests = registry.register(
    new Counter("pksn_http_requests_total", "HTTP requests by route and status", [
      "route",
      "status",
    ]),
  );
  const lookupSeconds = registry.register(
    new Histogram(
      "pksn_lookup_duration_seconds",
      "Time to answer look-up requests",
      LATENCY_BUCKETS,
      ["route"],
    ),
  );
  const verdicts = registry.register(
    new Counter("pksn_verdicts_total", "Verdicts served by object type", ["type", "verdict"]),
  );
  registry.register(
    new Gauge("pksn_records", "Stored reputation keys by object type and origin", [
      "type",
      "origin",
    ], function* readCounts(): Generator<[string[], number]> {
      const counts = index().counts;
      for (const type of OBJECT_TYPES) {
        yield [[type, "mirror"], counts[type].mirror];
        yield [[type, "local"], counts[type].local];
      }
    }),
  );
  registry.register(
    new Gauge(
      "pksn_index_prefixes",
      "Key prefixes held by the in-memory index",
      [],
      function* readPrefixCount(): Generator<[string[], number]> {
        yield [[], index().prefixes.size];
      },
    ),
  );
  return { registry, requests, lookupSeconds, verdicts };
}

/** Counts every request by route pattern and status; times the look-up routes. */
export function recordRequests(metrics: HttpMetrics): MiddlewareHandler {
  return async function recordRequest(c, next): Promise<void> {
    const started = performance.now();
    await next();
    const route = matchedRoutes(c)[c.req.routeIndex]?.path;
    // The 404 handler answers from the middleware's own match ("/*").
    const label = route === undefined || route === "/*"
      ? "unmatched"
      : route.includes("{")
      ? route.replace(/\{[^}]*\}/g, "")
      : route;
    metrics.requests.inc([label, String(c.res.status)]);
    if (label.startsWith("/v1/")) {
      metrics.lookupSeconds.observe((performance.now() - started) / 1000, [label]);
    }
  };
}

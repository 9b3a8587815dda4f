/** The HTTP-facing metrics and the handler wrapper that records them. */
import type { Context, Handler } from "hono";
import {
  type Clock,
  Counter,
  Gauge,
  Histogram,
  type Logger,
  MinuteCounts,
  Registry,
  systemClock,
} from "../core/mod.ts";
import { OBJECT_TYPES, type ReputationIndex } from "../reputation/mod.ts";
import { errorResponse } from "./responses.ts";

/** Metrics the HTTP layer updates. */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter;
  lookupSeconds: Histogram;
  verdicts: Counter;
  budgetExceeded: Counter;
  /** Objects looked up per minute over the last day, for the admin dashboard. */
  lookupsPerMinute: MinuteCounts;
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
export function createHttpMetrics(
  index: () => ReputationIndex,
  clock: Clock = systemClock,
): HttpMetrics {
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
  const budgetExceeded = registry.register(
    new Counter(
      "pksn_lookup_batch_budget_exceeded_total",
      "Batches that used their look-up time before the last item",
      [],
    ),
  );
  registry.register(
    new Gauge(
      "pksn_records",
      "Stored reputation keys by object type and origin",
      ["type", "origin"],
      function* readCounts(): Generator<[string[], number]> {
        const counts = index().counts;
        for (const type of OBJECT_TYPES) {
          yield [[type, "mirror"], counts[type].mirror];
          yield [[type, "local"], counts[type].local];
        }
      },
    ),
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
  const lookupsPerMinute = new MinuteCounts(clock);
  return { registry, requests, lookupSeconds, verdicts, budgetExceeded, lookupsPerMinute };
}

/** What {@link instrument} needs. */
export interface InstrumentDeps {
  metrics: HttpMetrics;
  log: Logger;
}

/**
 * Wraps a route handler so it counts its requests by status, times look-ups and
 * maps its errors to the JSON error shape. This is done per route instead of in
 * an async middleware because a middleware costs about a third of the
 * throughput of a look-up (measured with wrk, see README).
 */
export function instrument(
  route: string,
  deps: InstrumentDeps,
  handler: (c: Context) => Response | Promise<Response>,
): Handler {
  const measured = instrumentRequest(route, deps, (_request, c: Context) => handler(c));
  return function instrumented(c: Context): Response | Promise<Response> {
    return measured(c.req.raw, c);
  };
}

/**
 * {@link instrument} for a handler that takes the plain request: the look-ups answered before
 * Hono routes them (api/fast_lookups.ts) count and time themselves exactly as routes do.
 */
export function instrumentRequest<T>(
  route: string,
  deps: InstrumentDeps,
  handler: (request: Request, extra: T) => Response | Promise<Response>,
): (request: Request, extra: T) => Response | Promise<Response> {
  const { metrics, log } = deps;
  const timed = route.startsWith("/v1/");
  const done = (response: Response, started: number): Response => {
    metrics.requests.inc(route, STATUS_TEXT[response.status] ?? String(response.status));
    if (timed) metrics.lookupSeconds.observe((performance.now() - started) / 1000, route);
    return response;
  };
  return function instrumented(request: Request, extra: T): Response | Promise<Response> {
    const started = performance.now();
    let result: Response | Promise<Response>;
    try {
      result = handler(request, extra);
    } catch (err) {
      return done(errorResponse(err, request, log), started);
    }
    if (result instanceof Response) return done(result, started);
    return result.then(
      (response) => done(response, started),
      (err) => done(errorResponse(err, request, log), started),
    );
  };
}

// Status labels interned once, so counting does not format a number per request.
const STATUS_TEXT: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/** GET look-ups of one object: `/v1/files`, `/v1/urls`, `/v1/domains`, `/v1/ips`, `/v1/certs`. */
import type { Context, Hono } from "hono";
import { InvalidInputError } from "../core/mod.ts";
import type { LookupItemError, LookupResult, ObjectType, Reputation } from "../reputation/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, wholeBody } from "../http/mod.ts";
import type { AnswerText } from "./answer_text.ts";

/** The KSN proxy as the look-up routes use it (`proxy/`). */
export interface LookupProxy {
  /** Replaces, in place, the results nobody here answered (`via: "none"`) with its answers. */
  resolve(results: (LookupResult | LookupItemError)[]): Promise<void>;
}

/** What the object routes need. */
export interface ObjectRoutesDeps extends InstrumentDeps {
  reputation: Reputation;
  /** Checks the client's licence; null when licences are not required. */
  guard: ((headers: Headers) => unknown) | null;
  /** Asks the parent about what nothing here answers; absent when the proxy is off. */
  proxy?: LookupProxy;
  /** Turns answers into JSON text. */
  answers: AnswerText;
}

const ROUTES: readonly [path: string, type: ObjectType, value: (c: Context) => string][] = [
  ["/v1/files/:hash", "file", param("hash")],
  ["/v1/urls", "url", urlParameter],
  ["/v1/domains/:name", "domain", param("name")],
  // `{.+}` lets a CIDR's slash through: /v1/ips/10.0.0.0/8 as well as 10.0.0.0%2F8.
  ["/v1/ips/:address{.+}", "ip", param("address")],
  ["/v1/certs/:thumbprint", "cert", param("thumbprint")],
];

function param(name: string): (c: Context) => string {
  return (c) => c.req.param(name) ?? "";
}

function urlParameter(c: Context): string {
  const url = c.req.query("url");
  if (url === undefined || url === "") {
    throw new InvalidInputError(
      "missing_parameter",
      'Query parameter "url" is required: GET /v1/urls?url=<percent-encoded URL>',
    );
  }
  return url;
}

const JSON_HEADERS = { "content-type": "application/json" } as const;

/**
 * Answers one look-up whose licence was checked: the look-up, its metrics, and the KSN proxy
 * for what nobody here knows. The Hono routes and the fast lane (fast_lookups.ts) both use it.
 */
export function answerLookup(
  deps: ObjectRoutesDeps,
  type: ObjectType,
  value: string,
): Response | Promise<Response> {
  const { reputation, metrics, proxy, answers } = deps;
  const result = reputation.lookup(type, value);
  metrics.lookupsPerMinute.add();
  if (proxy === undefined || result.via !== "none") {
    metrics.verdicts.inc(type, result.verdict);
    return wholeBody(new Response(answers.of(result), { headers: JSON_HEADERS }));
  }
  const results: LookupResult[] = [result];
  return proxy.resolve(results).then(() => {
    metrics.verdicts.inc(type, results[0].verdict);
    return wholeBody(new Response(answers.of(results[0]), { headers: JSON_HEADERS }));
  });
}

/** Adds the single-object look-up routes to `app`. */
export function mountObjectRoutes(app: Hono, deps: ObjectRoutesDeps): void {
  for (const [path, type, value] of ROUTES) {
    app.get(
      path,
      instrument(routeLabel(path), deps, function lookupOne(c): Response | Promise<Response> {
        // The licence first: a client without one learns nothing, not even that a value is bad.
        if (deps.guard !== null) deps.guard(c.req.raw.headers);
        return answerLookup(deps, type, value(c));
      }),
    );
    allowOnly(app, path, ["GET"], deps);
  }
}

/** The route's name in metrics: its path without the parameter pattern. */
export function routeLabel(path: string): string {
  return path.replace(/\{[^}]*\}/, "");
}

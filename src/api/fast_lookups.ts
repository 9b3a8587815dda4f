/**
 * The single-object look-ups by path (`GET /v1/files/H`, certs, domains, ips) answered before
 * Hono routes the request. At tens of thousands of look-ups a second Hono's router, context and
 * response cost several times the look-up itself (measured: about 9 µs of CPU a request through
 * Hono, against under 1 µs for the look-up); this lane answers through the same code as the
 * routes in objects.ts, counted and timed under the same route names. Whatever it is not sure
 * to read exactly as Hono would (another method, a percent-encoded value, a slash in a value
 * that takes none) it leaves to Hono.
 */
import { instrumentRequest } from "../http/mod.ts";
import type { ObjectType } from "../reputation/mod.ts";
import { answerLookup, type ObjectRoutesDeps, routeLabel } from "./objects.ts";

/** A look-up route the lane answers: the path up to the value, and whether a value has slashes. */
interface Lane {
  prefix: string;
  type: ObjectType;
  path: string;
  slashes: boolean;
}

// The routes of objects.ts whose value is the rest of the path. GET /v1/urls takes its value
// from the query string, which Hono decodes in ways not worth copying: it stays with Hono.
const LANES: readonly Lane[] = [
  { prefix: "/v1/files/", type: "file", path: "/v1/files/:hash", slashes: false },
  { prefix: "/v1/domains/", type: "domain", path: "/v1/domains/:name", slashes: false },
  { prefix: "/v1/ips/", type: "ip", path: "/v1/ips/:address{.+}", slashes: true },
  { prefix: "/v1/certs/", type: "cert", path: "/v1/certs/:thumbprint", slashes: false },
];

const PERCENT = 37;
const SLASH = 47;
const QUESTION = 63;
const HASH = 35;

/** A handler that answers a look-up by path, or returns null for Hono to route the request. */
export type FastLookup = (request: Request) => Response | Promise<Response> | null;

/** The fast lane over the same dependencies as the object routes. */
export function fastLookups(deps: ObjectRoutesDeps): FastLookup {
  const { guard } = deps;
  const lanes = LANES.map((lane) => ({
    ...lane,
    answer: instrumentRequest(
      routeLabel(lane.path),
      deps,
      function lookupOne(request: Request, value: string): Response | Promise<Response> {
        if (guard !== null) guard(request.headers);
        return answerLookup(deps, lane.type, value);
      },
    ),
  }));
  return function fastLookup(request: Request): Response | Promise<Response> | null {
    if (request.method !== "GET") return null;
    const url = request.url;
    // Where the path starts, found as Hono finds it (after "scheme://host").
    const start = url.indexOf("/", url.indexOf(":") + 4);
    for (const lane of lanes) {
      if (!url.startsWith(lane.prefix, start)) continue;
      const from = start + lane.prefix.length;
      let end = from;
      for (; end < url.length; end++) {
        const c = url.charCodeAt(end);
        if (c === QUESTION || c === HASH) break;
        if (c === PERCENT || (c === SLASH && !lane.slashes)) return null;
      }
      if (end === from) return null;
      const value = url.slice(from, end);
      // An empty segment in a slashed value: what Hono's pattern makes of it is Hono's to say.
      if (lane.slashes && (value.endsWith("/") || value.includes("//"))) return null;
      return lane.answer(request, value);
    }
    return null;
  };
}

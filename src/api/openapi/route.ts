/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the routes this node serves. No licence is
 * needed: it describes the API, it answers nothing. It is built on the first request, from the
 * routes registered by then (mounted last, every router is in), so a node with a router off (the
 * feed, the compatible routes) does not advertise it.
 */
import type { Hono } from "hono";
import { VERSION } from "../../core/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, type RouteDoc } from "../../http/mod.ts";
import { openApiDocument } from "./document.ts";
import { CLIENT_DOCS } from "./client_docs.ts";
import { COMPAT_DOCS } from "./compat_docs.ts";
import { LOOKUP_DOCS } from "./lookup_docs.ts";
import { SERVICE_DOCS } from "./service_docs.ts";

/** Every public route, as the document describes it. */
export const PUBLIC_ROUTE_DOCS: readonly RouteDoc[] = [
  ...LOOKUP_DOCS,
  ...CLIENT_DOCS,
  ...COMPAT_DOCS,
  ...SERVICE_DOCS,
];

/** The document's path. */
export const OPENAPI_PATH = "/openapi.json";

/** Adds `GET /openapi.json` to `app`, describing the registered routes among `docs`. */
export function mountOpenApiRoute(
  app: Hono,
  deps: InstrumentDeps & { docs: readonly RouteDoc[] },
): void {
  let text: string | undefined;
  app.get(
    OPENAPI_PATH,
    instrument(OPENAPI_PATH, deps, function openApi(c): Response {
      text ??= JSON.stringify(
        openApiDocument(deps.docs, { version: VERSION, registered: app.routes }),
      );
      return c.body(text, 200, { "Content-Type": "application/json" });
    }),
  );
  allowOnly(app, OPENAPI_PATH, ["GET"], deps);
}

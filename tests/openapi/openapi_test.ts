/**
 * `GET /openapi.json`: an OpenAPI 3.1 document of pksn's version, served without a licence, that
 * names exactly the routes the node serves.
 */
import assert from "node:assert/strict";
import { ADMIN_ROUTE_DOCS } from "../../src/admin/mod.ts";
import { openApiDocument, openApiPath } from "../../src/api/openapi/document.ts";
import { PUBLIC_ROUTE_DOCS } from "../../src/api/openapi/route.ts";
import { VERSION } from "../../src/core/build_info.ts";
import type { RouteDoc } from "../../src/http/mod.ts";
import { startTestNode } from "../_helpers.ts";
import { API_PREFIXES } from "../_api_routes.ts";

const DOCS: readonly RouteDoc[] = [...PUBLIC_ROUTE_DOCS, ...ADMIN_ROUTE_DOCS];

interface OpenApi {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, { security: object[]; responses: object }>>;
  components: { securitySchemes: Record<string, unknown> };
}

async function documentOf(url: string): Promise<OpenApi> {
  const res = await fetch(`${url}/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

/** "METHOD /path/{param}" of every operation in a document. */
function operations(document: OpenApi): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();
}

Deno.test("GET /openapi.json is an OpenAPI 3.1 document of pksn's version, served without a licence", async () => {
  await using node = await startTestNode({ config: { auth: { required: true } } });
  const document = await documentOf(node.url);
  assert.match(document.openapi, /^3\.1\.\d+$/);
  assert.equal(document.info.version, VERSION);
  const schemes = new Set(Object.keys(document.components.securitySchemes));
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item)) {
      for (const requirement of op.security) {
        for (const name of Object.keys(requirement)) assert.ok(schemes.has(name), name);
      }
    }
  }
  // The request schemas are the routes' own: the batch body is the object /v1/lookup parses.
  const batch = document.paths["/v1/lookup"].post as unknown as {
    requestBody: { content: { "application/json": { schema: { required: string[] } } } };
  };
  assert.deepEqual(batch.requestBody.content["application/json"].schema.required, ["items"]);
});

Deno.test("the OpenAPI document names every route the node serves and no other", async () => {
  // Everything on: the feed tree, statistics and samples, so every router is mounted.
  await using node = await startTestNode({ config: { sync: { serveFeed: true } } });
  const served = node.serving.routes
    .filter((r) => r.method !== "ALL" && API_PREFIXES.some((p) => r.path.startsWith(p)));
  const documented = new Set(operations(await documentOf(node.url)));
  const servedNames = new Set(served.map((r) => `${r.method} ${openApiPath(r.path)}`));
  const undocumented = [...servedNames].filter((r) => !documented.has(r)).sort();
  const gone = [...documented].filter((r) => !servedNames.has(r)).sort();
  assert.deepEqual({ undocumented, gone }, { undocumented: [], gone: [] });
  // Nor does any description name a route that nothing registers (a path mistyped in a doc).
  const registered = new Set(served.map((r) => `${r.method} ${r.path}`));
  const unregistered = DOCS.map((d) => `${d.method} ${d.path}`).filter((r) => !registered.has(r));
  assert.deepEqual(unregistered, []);
});

Deno.test("a node with the compatible routes off leaves them out of its OpenAPI document", async () => {
  await using node = await startTestNode({
    config: { compat: { hashlookup: false, virustotal: false } },
  });
  const names = operations(await documentOf(node.url));
  assert.ok(names.includes("GET /v1/files/{hash}"));
  assert.deepEqual(names.filter((n) => /\/(lookup|bulk|api\/v3)\/|\/info$/.test(n)), []);
});

Deno.test("an example answering a status its route does not document is refused", () => {
  const healthz = DOCS.find((d) => d.path === "/healthz")!;
  const broken = { ...healthz, examples: [{ summary: "down", status: 503 }] };
  assert.throws(
    () => openApiDocument([broken], { version: VERSION }),
    /GET \/healthz: example "down" answers 503, which the route does not document/,
  );
});

Deno.test("the OpenAPI path of a Hono pattern names its parameters in braces", () => {
  assert.equal(openApiPath("/v1/ips/:address{.+}"), "/v1/ips/{address}");
  assert.equal(openApiPath("/admin/api/licences/:id/revoke"), "/admin/api/licences/{id}/revoke");
  assert.equal(openApiPath("/feed/*"), "/feed/{path}");
});

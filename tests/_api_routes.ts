/** Which of the node's routes make up its HTTP API (the admin web UI's pages are not part of it). */

/** Path prefixes of the API routes, for the tests that compare them with the README and OpenAPI. */
export const API_PREFIXES: readonly string[] = [
  "/v1/",
  "/admin/api/",
  "/feed/",
  "/healthz",
  "/readyz",
  "/metrics",
  "/lookup/",
  "/bulk/",
  "/info",
  "/api/v3/",
  "/openapi.json",
];

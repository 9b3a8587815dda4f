/** CSRF protection: state-changing admin requests need the session's token and the node's origin. */
import assert from "node:assert/strict";
import { api, assertError, logIn, PASSWORD, startAdminNode } from "./_admin.ts";

const SET_MODE = { mode: "save-statistics-to-file", acceptStatement: true };

async function loggedInNode(): Promise<
  Awaited<ReturnType<typeof startAdminNode>> & Awaited<ReturnType<typeof logIn>>
> {
  const node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  return Object.assign(node, await logIn(node));
}

Deno.test("an admin POST without X-CSRF-Token answers 403 csrf_failed and changes nothing", async () => {
  await using node = await loggedInNode();
  const res = await api(node, "/admin/api/participation", { json: SET_MODE, cookie: node.cookie });
  assertError(res, 403, "csrf_failed");
  assert.equal(node.node.participation.state.mode, "do-not-participate");
});

Deno.test("an admin POST with a wrong X-CSRF-Token answers 403 csrf_failed", async () => {
  await using node = await loggedInNode();
  const res = await api(node, "/admin/api/participation", {
    json: SET_MODE,
    cookie: node.cookie,
    csrf: node.csrf.slice(0, -1) + (node.csrf.endsWith("A") ? "B" : "A"),
  });
  assertError(res, 403, "csrf_failed");
  assert.equal(node.node.participation.state.mode, "do-not-participate");
});

Deno.test("an admin POST with another session's CSRF token answers 403 csrf_failed", async () => {
  await using node = await loggedInNode();
  const other = await logIn(node);
  const res = await api(node, "/admin/api/participation", {
    json: SET_MODE,
    cookie: node.cookie,
    csrf: other.csrf,
  });
  assertError(res, 403, "csrf_failed");
});

Deno.test("an admin POST from a cross-site Origin answers 403 csrf_failed even with the right token", async () => {
  await using node = await loggedInNode();
  // Another port on the same host is another origin; localhost on the node's port is allowed.
  const port = Number(new URL(node.url).port);
  for (
    const origin of [
      "https://evil.example",
      "null",
      `http://127.0.0.1:${port === 65535 ? 1 : port + 1}`,
    ]
  ) {
    const res = await api(node, "/admin/api/participation", {
      json: SET_MODE,
      cookie: node.cookie,
      csrf: node.csrf,
      headers: { origin },
    });
    assertError(res, 403, "csrf_failed");
  }
  assert.equal(node.node.participation.state.mode, "do-not-participate");
});

Deno.test("an admin POST with the right X-CSRF-Token and the node's own Origin succeeds", async () => {
  await using node = await loggedInNode();
  const res = await api(node, "/admin/api/participation", {
    json: SET_MODE,
    cookie: node.cookie,
    csrf: node.csrf,
    headers: { origin: node.url },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.mode, "save-statistics-to-file");
  assert.equal(node.node.participation.state.mode, "save-statistics-to-file");
});

Deno.test("an admin POST with the right X-CSRF-Token and no Origin succeeds", async () => {
  await using node = await loggedInNode();
  const res = await api(node, "/admin/api/participation", {
    json: SET_MODE,
    cookie: node.cookie,
    csrf: node.csrf,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});

Deno.test("admin GET requests need no CSRF token", async () => {
  await using node = await loggedInNode();
  const res = await api(node, "/admin/api/participation", { cookie: node.cookie });
  assert.equal(res.status, 200);
  assert.equal(res.body.mode, "do-not-participate");
});

Deno.test("POST /admin/api/logout needs the CSRF token too", async () => {
  await using node = await loggedInNode();
  assertError(
    await api(node, "/admin/api/logout", { method: "POST", cookie: node.cookie }),
    403,
    "csrf_failed",
  );
  assert.equal((await api(node, "/admin/api/session", { cookie: node.cookie })).status, 200);
});

/** Admin sessions: what opens an admin route, expiry, logout and password changes. */
import assert from "node:assert/strict";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import { startTestNode } from "../_helpers.ts";
import { api, assertError, logIn, PASSWORD, setUp, startAdminNode } from "./_admin.ts";

const PROTECTED: [method: string, path: string][] = [
  ["GET", "/admin/api/session"],
  ["GET", "/admin/api/licences"],
  ["POST", "/admin/api/licences/1/revoke"],
  ["GET", "/admin/api/participation"],
  ["POST", "/admin/api/participation"],
  ["POST", "/admin/api/logout"],
];

Deno.test("GET /admin/api/session answers the username and the session's CSRF token", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const session = await logIn(node);
  const res = await api(node, "/admin/api/session", { cookie: session.cookie });
  assert.equal(res.status, 200);
  assert.equal(res.body.username, "admin");
  assert.equal(res.body.csrfToken, session.csrf);
  assert.equal(res.headers.get("cache-control"), "no-store");
});

Deno.test("every admin route but setup and login answers 401 admin_auth_required without a session", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  for (const [method, path] of PROTECTED) {
    const res = await api(node, path, { method, headers: { "x-csrf-token": "x" } });
    assertError(res, 401, "admin_auth_required");
  }
});

Deno.test("a made-up session cookie does not open an admin route", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  for (const cookie of ["pksn_admin=" + "A".repeat(43), "pksn_admin=", "pksn_admin=../../x"]) {
    assertError(await api(node, "/admin/api/session", { cookie }), 401, "admin_auth_required");
  }
});

Deno.test("a licence key never opens an admin route", async () => {
  await using node = await startTestNode({ demo: true, config: { auth: { required: true } } });
  const lookup = await fetch(`${node.url}/v1/files/44d88612fea8a8f36de82e1278abb02f`, {
    headers: { authorization: `Bearer ${DEMO_KEY}` },
  });
  await lookup.body?.cancel();
  assert.equal(lookup.status, 200, "the demo key is valid for look-ups");
  const keyHeaders: Record<string, string>[] = [
    { authorization: `Bearer ${DEMO_KEY}` },
    { "x-license-key": DEMO_KEY },
  ];
  for (const headers of keyHeaders) {
    for (const [method, path] of PROTECTED) {
      const res = await api(node, path, { method, headers });
      assertError(res, 401, "admin_auth_required");
    }
  }
});

Deno.test("an admin session expires after sessionHours and is then refused with 401", async () => {
  await using node = await startAdminNode({ config: { admin: { sessionHours: 2 } } });
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie } = await logIn(node);
  node.clock.set(node.clock.now() + 2 * 3600_000 - 1000);
  assert.equal((await api(node, "/admin/api/session", { cookie })).status, 200);
  node.clock.set(node.clock.now() + 1000);
  assertError(await api(node, "/admin/api/session", { cookie }), 401, "admin_auth_required");
  const left = node.node.db.prepare("SELECT COUNT(*) AS n FROM admin_session").get() as {
    n: number;
  };
  assert.equal(left.n, 0, "the expired session is deleted");
});

Deno.test("POST /admin/api/logout ends the session and clears the cookie", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie, csrf } = await logIn(node);
  const res = await api(node, "/admin/api/logout", { method: "POST", cookie, csrf });
  assert.equal(res.status, 204);
  const cleared = res.headers.get("set-cookie")!;
  assert.match(cleared, /^pksn_admin=; /);
  assert.ok(cleared.split("; ").includes("Max-Age=0"), cleared);
  assertError(await api(node, "/admin/api/session", { cookie }), 401, "admin_auth_required");
});

Deno.test("changing the admin password ends the account's sessions", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie } = await logIn(node);
  await node.auth.setPassword("admin", "another long passphrase");
  assertError(await api(node, "/admin/api/session", { cookie }), 401, "admin_auth_required");
  await logIn(node, "admin", "another long passphrase");
});

Deno.test("session ids are stored only as their SHA-256", async () => {
  await using node = await startAdminNode();
  await setUp(node);
  const { cookie } = await logIn(node);
  const id = cookie.split("=")[1];
  const rows = node.node.db.prepare("SELECT id_hash FROM admin_session").all() as {
    id_hash: Uint8Array;
  }[];
  assert.equal(rows.length, 1);
  const expected = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)),
  );
  assert.deepEqual(new Uint8Array(rows[0].id_hash), expected);
});

Deno.test("unknown admin API paths answer 404 not_found", async () => {
  await using node = await startAdminNode();
  assertError(await api(node, "/admin/api/nothing-here"), 404, "not_found");
});

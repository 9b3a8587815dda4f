/** `POST /admin/api/sync`: "sync now" from the admin API (and the web UI's button). */
import assert from "node:assert/strict";
import { AdminAuth } from "../../src/admin/mod.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { api, assertError, logIn, PASSWORD, setUp, startAdminNode } from "./_admin.ts";
import { startFollowing } from "../sync/_feed.ts";

Deno.test("POST /admin/api/sync needs a session and the CSRF token, and names a node that follows no feed", async () => {
  await using node = await startAdminNode();
  await setUp(node);
  assertError(await api(node, "/admin/api/sync", { method: "POST" }), 401, "admin_auth_required");
  const { cookie, csrf } = await logIn(node);
  assertError(await api(node, "/admin/api/sync", { method: "POST", cookie }), 403, "csrf_failed");
  const res = await api(node, "/admin/api/sync", { method: "POST", cookie, csrf });
  assertError(res, 404, "sync_not_configured");
  assert.match(res.body.error.message, /sync\.url and sync\.root/);
  const get = await api(node, "/admin/api/sync", { cookie });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
});

Deno.test("POST /admin/api/sync runs a sync of a following node and answers its outcome", async () => {
  await using following = await startFollowing();
  const { child } = following;
  const { node } = child.serving;
  await new AdminAuth({
    db: node.db,
    clock: { now: () => Date.now() },
    config: child.config.admin,
    secure: false,
    log: memoryLogger(),
  }).setPassword("admin", PASSWORD);
  const { cookie, csrf } = await logIn(child);
  const res = await api(child, "/admin/api/sync", { method: "POST", cookie, csrf });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.result.to, 1);
  assert.equal(res.body.result.outcome, "updated");
  const again = await api(child, "/admin/api/sync", { method: "POST", cookie, csrf });
  assert.equal(again.body.result.outcome, "current");
  // The web UI's sync page lists both runs, newest first.
  const page = await (await fetch(`${child.url}/admin/sync`, { headers: { cookie } })).text();
  const rows = [...page.matchAll(/<td class="good">(\w+)<\/td><td>([^<]*)<\/td>/g)]
    .map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, [["current", "1 → 1"], ["updated", "0 → 1"]]);
});

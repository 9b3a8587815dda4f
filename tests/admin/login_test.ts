/** `POST /admin/api/login`: the session cookie, wrong passwords and the lock-out. */
import assert from "node:assert/strict";
import { lockLength } from "../../src/admin/mod.ts";
import { api, type ApiResponse, assertError, logIn, PASSWORD, startAdminNode } from "./_admin.ts";

function login(node: { url: string }, password: string, username = "admin"): Promise<ApiResponse> {
  return api(node, "/admin/api/login", { json: { username, password } });
}

Deno.test("POST /admin/api/login sets an HttpOnly SameSite=Strict cookie for /admin and answers the CSRF token", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const res = await login(node, PASSWORD);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ["csrfToken", "expiresAt", "username"]);
  assert.equal(res.body.username, "admin");
  assert.match(res.body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Date.parse(res.body.expiresAt), node.clock.now() + 12 * 3600_000);
  const cookie = res.headers.get("set-cookie")!;
  const [pair, ...attributes] = cookie.split("; ");
  assert.match(pair, /^pksn_admin=[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(attributes.sort(), [
    "HttpOnly",
    "Max-Age=43200",
    "Path=/admin",
    "SameSite=Strict",
  ]);
  assert.equal(res.headers.get("cache-control"), "no-store");
});

Deno.test("POST /admin/api/login adds Secure to the cookie when the node serves TLS", async () => {
  await using node = await startAdminNode({ secure: true });
  await node.auth.setPassword("admin", PASSWORD);
  const { setCookie } = await logIn(node);
  assert.ok(setCookie.split("; ").includes("Secure"), setCookie);
  assert.ok(setCookie.split("; ").includes("HttpOnly"), setCookie);
  assert.ok(setCookie.split("; ").includes("SameSite=Strict"), setCookie);
});

Deno.test("POST /admin/api/login answers 401 login_failed for a wrong password or an unknown user alike", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const wrong = await login(node, "not the right password");
  assertError(wrong, 401, "login_failed");
  assert.equal(wrong.headers.get("set-cookie"), null);
  const unknown = await login(node, PASSWORD, "nobody");
  assertError(unknown, 401, "login_failed");
  assert.equal(unknown.body.error.message, wrong.body.error.message);
});

Deno.test("POST /admin/api/login locks after maxFailures failures with 429 login_locked, even for the right password", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 3 } } });
  await node.auth.setPassword("admin", PASSWORD);
  for (let i = 0; i < 3; i++) {
    assertError(await login(node, `wrong password ${i}`), 401, "login_failed");
  }
  const locked = await login(node, PASSWORD);
  assertError(locked, 429, "login_locked");
  assert.equal(locked.headers.get("retry-after"), "30");
  assert.equal(locked.headers.get("set-cookie"), null);
  node.clock.set(node.clock.now() + 29_000);
  const stillLocked = await login(node, PASSWORD);
  assertError(stillLocked, 429, "login_locked");
  assert.equal(stillLocked.headers.get("retry-after"), "1");
});

Deno.test("POST /admin/api/login unlocks after the back-off and a success resets the count", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 2 } } });
  await node.auth.setPassword("admin", PASSWORD);
  for (let i = 0; i < 2; i++) await login(node, "wrong password!");
  node.clock.set(node.clock.now() + 30_000);
  assert.equal((await login(node, PASSWORD)).status, 200);
  // Reset: one more failure is below the limit again.
  assertError(await login(node, "wrong password!"), 401, "login_failed");
  assert.equal((await login(node, PASSWORD)).status, 200);
});

Deno.test("POST /admin/api/login doubles the lock with each further failure", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 2 } } });
  await node.auth.setPassword("admin", PASSWORD);
  for (let i = 0; i < 2; i++) await login(node, "wrong password!");
  assert.equal((await login(node, PASSWORD)).headers.get("retry-after"), "30");
  node.clock.set(node.clock.now() + 30_000);
  assertError(await login(node, "wrong password!"), 401, "login_failed");
  const locked = await login(node, PASSWORD);
  assertError(locked, 429, "login_locked");
  assert.equal(locked.headers.get("retry-after"), "60");
});

Deno.test("the lock-out lasts 2^(n - maxFailures) x 30 s, capped at 15 minutes", () => {
  const table: [failures: number, seconds: number][] = [
    [4, 0],
    [5, 30],
    [6, 60],
    [7, 120],
    [8, 240],
    [9, 480],
    [10, 900],
    [11, 900],
    [1000, 900],
  ];
  for (const [failures, seconds] of table) {
    assert.equal(lockLength(failures, 5), seconds * 1000, `${failures} failures`);
  }
});

Deno.test("parallel wrong guesses cannot get past the lock-out", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 3 } } });
  await node.auth.setPassword("admin", PASSWORD);
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => login(node, `parallel guess ${i}`)),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429, 429, 429]);
});

Deno.test("the lock-out of one username does not lock another", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 1 } } });
  await node.auth.setPassword("admin", PASSWORD);
  await node.auth.setPassword("second", PASSWORD);
  await login(node, "wrong password!");
  assertError(await login(node, PASSWORD), 429, "login_locked");
  assert.equal((await login(node, PASSWORD, "second")).status, 200);
});

Deno.test("POST /admin/api/login rejects a cross-origin request with 403 csrf_failed", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const res = await api(node, "/admin/api/login", {
    json: { username: "admin", password: PASSWORD },
    headers: { origin: "https://evil.example" },
  });
  assertError(res, 403, "csrf_failed");
  assert.equal(res.headers.get("set-cookie"), null);
  const sameOrigin = await api(node, "/admin/api/login", {
    json: { username: "admin", password: PASSWORD },
    headers: { origin: node.url },
  });
  assert.equal(sameOrigin.status, 200);
});

Deno.test("POST /admin/api/login rejects a body without a password with 400 invalid_request", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/login", { json: { username: "admin" } });
  assertError(res, 400, "invalid_request");
});

Deno.test("GET /admin/api/login answers 405 with Allow: POST", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/login");
  assertError(res, 405, "method_not_allowed");
  assert.equal(res.headers.get("allow"), "POST");
});

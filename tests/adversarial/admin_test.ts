/**
 * Issue 9, findings 8 and 9: a password typed into the username field must not
 * reach the log or the audit table, and a DNS-rebinding page (its requests carry
 * the attacker's name in Host and Origin) must not reach the admin API.
 */
import assert from "node:assert/strict";
import {
  api,
  assertError,
  auditRows,
  logIn,
  PASSWORD,
  rawRequest,
  startAdminNode,
} from "../admin/_admin.ts";

// 40 characters with spaces: breaks the username rule, reads like a pass phrase.
const TYPED_PASSWORD = "correct horse battery staple in username";

Deno.test("a login whose username breaks the username rule logs and audits its length, never the name", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 1 } } });
  await node.auth.setPassword("admin", PASSWORD);
  assert.equal(TYPED_PASSWORD.length, 40);
  const failed = await api(node, "/admin/api/login", {
    json: { username: TYPED_PASSWORD, password: "not the password" },
  });
  assertError(failed, 401, "login_failed");
  const locked = await api(node, "/admin/api/login", {
    json: { username: TYPED_PASSWORD, password: "not the password" },
  });
  assertError(locked, 429, "login_locked");
  assert.ok(!locked.body.error.message.includes(TYPED_PASSWORD), locked.body.error.message);

  const log = node.logLines.join("\n");
  assert.ok(!log.includes(TYPED_PASSWORD), log);
  assert.ok(!log.includes("correct horse"), log);
  assert.match(log, /Admin login failed usernameLength=40 /);
  assert.match(log, /Admin login locked usernameLength=40 /);
  const audit = auditRows(node.node, true);
  assert.ok(!JSON.stringify(audit).includes("correct horse"), JSON.stringify(audit));
  const failures = audit.filter((r) => r.action === "admin.login_failed");
  assert.equal(failures.length, 1);
  assert.equal(JSON.parse(failures[0].detail!).usernameLength, 40);
});

Deno.test("a failed login with a well-formed unknown username still names it in the log", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  assertError(
    await api(node, "/admin/api/login", { json: { username: "operator", password: PASSWORD } }),
    401,
    "login_failed",
  );
  assert.ok(node.logLines.some((l) => l.includes("Admin login failed username=operator ")));
});

/** The Host and Origin a DNS-rebinding page's requests carry: the attacker's name, the node's port. */
function rebinding(node: { url: string }): { host: string; origin: string } {
  const port = new URL(node.url).port;
  return { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` };
}

Deno.test("a DNS-rebinding POST to the admin login or setup is refused with 403 host_not_allowed", async () => {
  await using node = await startAdminNode();
  const { host, origin } = rebinding(node);
  const setup = await rawRequest(node, "/admin/api/setup", {
    host,
    headers: { origin },
    json: { token: node.setupToken, username: "admin", password: PASSWORD },
  });
  assertError(setup, 403, "host_not_allowed");
  assert.match(setup.body.error.message, /"attacker\.example:\d+"/);
  assert.equal(node.auth.hasAccount(), false);

  await node.auth.setPassword("admin", PASSWORD);
  const login = await rawRequest(node, "/admin/api/login", {
    host,
    headers: { origin },
    json: { username: "admin", password: PASSWORD },
  });
  assertError(login, 403, "host_not_allowed");
  assert.equal(login.headers.get("set-cookie"), null);
});

Deno.test("a DNS-rebinding POST with a valid session and CSRF token still changes nothing", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const session = await logIn(node);
  const { host, origin } = rebinding(node);
  const res = await rawRequest(node, "/admin/api/participation", {
    host,
    headers: { origin, cookie: session.cookie, "x-csrf-token": session.csrf },
    json: { mode: "save-statistics-to-file", acceptStatement: true },
  });
  assertError(res, 403, "host_not_allowed");
  assert.equal(node.node.participation.state.mode, "do-not-participate");
});

Deno.test("admin GET routes with a foreign Host are refused with 403 host_not_allowed", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie } = await logIn(node);
  const { host } = rebinding(node);
  for (const path of ["/admin/api/session", "/admin/api/licences", "/admin/api/participation"]) {
    assertError(
      await rawRequest(node, path, { host, headers: { cookie } }),
      403,
      "host_not_allowed",
    );
  }
  const own = await rawRequest(node, "/admin/api/session", {
    host: new URL(node.url).host,
    headers: { cookie },
  });
  assert.equal(own.status, 200, JSON.stringify(own.body));
});

Deno.test("an admin request from a foreign Origin to the node's own Host is refused with 403 csrf_failed naming it", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { origin } = rebinding(node);
  const res = await rawRequest(node, "/admin/api/login", {
    host: new URL(node.url).host,
    headers: { origin },
    json: { username: "admin", password: PASSWORD },
  });
  const message = assertErrorMessage(res, 403, "csrf_failed");
  assert.ok(message.includes(JSON.stringify(origin)), message);
});

function assertErrorMessage(
  res: Awaited<ReturnType<typeof rawRequest>>,
  status: number,
  code: string,
): string {
  assertError(res, status, code);
  return res.body.error.message;
}

/** First run: the setup token `serve` logs, and `POST /admin/api/setup`. */
import assert from "node:assert/strict";
import { SetupToken } from "../../src/admin/mod.ts";
import { startTestNode } from "../_helpers.ts";
import { api, assertError, logIn, PASSWORD, setUp, startAdminNode } from "./_admin.ts";

const TOKEN_LINE = /WARN +Admin setup token \(one use, this run only\): ([0-9a-f]{32})$/;

Deno.test("serve logs a one-time admin setup token that creates the first account", async () => {
  await using node = await startTestNode();
  const lines = node.logLines.map((l) => l.match(TOKEN_LINE)).filter((m) => m !== null);
  assert.equal(lines.length, 1, node.logLines.join("\n"));
  const token = lines[0]![1];
  const res = await api(node, "/admin/api/setup", {
    json: { token, username: "admin", password: PASSWORD },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.deepEqual(res.body, { username: "admin" });
  await logIn(node);
});

Deno.test("POST /admin/api/setup rejects a wrong token with 403 setup_token_invalid", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/setup", {
    json: { token: "0".repeat(32), username: "admin", password: PASSWORD },
  });
  assertError(res, 403, "setup_token_invalid");
  assert.equal(node.auth.hasAccount(), false);
});

Deno.test("POST /admin/api/setup works once: the same token then answers 409 admin_exists", async () => {
  await using node = await startAdminNode();
  await setUp(node);
  const again = await api(node, "/admin/api/setup", {
    json: { token: node.setupToken, username: "mallory", password: PASSWORD },
  });
  assertError(again, 409, "admin_exists");
  const login = await api(node, "/admin/api/login", {
    json: { username: "mallory", password: PASSWORD },
  });
  assertError(login, 401, "login_failed");
});

Deno.test("a setup token cannot be consumed twice", () => {
  const token = new SetupToken();
  assert.match(token.value, /^[0-9a-f]{32}$/);
  assert.equal(token.consume("wrong"), false);
  assert.equal(token.consume(token.value), true);
  assert.equal(token.consume(token.value), false);
  assert.equal(token.matches(token.value), false);
});

Deno.test("two setup tokens differ", () => {
  assert.notEqual(new SetupToken().value, new SetupToken().value);
});

Deno.test("POST /admin/api/setup answers 409 admin_exists when an account already exists", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const res = await api(node, "/admin/api/setup", {
    json: { token: node.setupToken, username: "other", password: PASSWORD },
  });
  assertError(res, 409, "admin_exists");
});

Deno.test("POST /admin/api/setup rejects a password under 12 characters and keeps the token usable", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/setup", {
    json: { token: node.setupToken, username: "admin", password: "short pw" },
  });
  assertError(res, 400, "password_too_weak");
  assert.match(res.body.error.message, /at least 12 characters/);
  await setUp(node);
});

Deno.test("POST /admin/api/setup rejects an invalid username with 400 invalid_username", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/setup", {
    json: { token: node.setupToken, username: "bad name", password: PASSWORD },
  });
  assertError(res, 400, "invalid_username");
});

Deno.test("POST /admin/api/setup rejects a cross-origin request with 403 csrf_failed", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/setup", {
    json: { token: node.setupToken, username: "admin", password: PASSWORD },
    headers: { origin: "https://evil.example" },
  });
  assertError(res, 403, "csrf_failed");
  assert.equal(node.auth.hasAccount(), false);
});

Deno.test("POST /admin/api/setup rejects unknown fields with 400 invalid_request", async () => {
  await using node = await startAdminNode();
  const res = await api(node, "/admin/api/setup", {
    json: { token: node.setupToken, username: "admin", password: PASSWORD, role: "root" },
  });
  assertError(res, 400, "invalid_request");
  assert.match(res.body.error.message, /"role": unknown field/);
});

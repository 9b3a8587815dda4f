/** The operator's reputation endpoints: the admin look-up and the local overrides. */
import assert from "node:assert/strict";
import { hashPassword } from "../../src/admin/mod.ts";
import { expireOverrides } from "../../src/reputation/mod.ts";
import { AdminAccountRepository, ORIGIN_LOCAL, ORIGIN_MIRROR } from "../../src/store/mod.ts";
import { fakeClock, startTestNode, type TestNode } from "../_helpers.ts";
import { EICAR, importInto } from "../http/_http.ts";
import {
  api,
  type ApiResponse,
  assertError,
  auditRows,
  type LoggedIn,
  logIn,
  PASSWORD,
} from "./_admin.ts";

const HASH = "0123456789abcdef0123456789abcdef";
type Node = TestNode & LoggedIn & { clock: ReturnType<typeof fakeClock> };

/** A node with an admin account (cheaply hashed, so the test stays fast), logged in. */
async function adminNode(): Promise<Node> {
  const clock = fakeClock();
  const node = await startTestNode({ clock, config: { store: { reloadCheckSeconds: 3600 } } });
  new AdminAccountRepository(node.serving.node.db)
    .upsertAccount("admin", await hashPassword(PASSWORD, 1000), clock.now());
  return Object.assign(node, await logIn(node), { clock });
}

/** Sends a JSON body with the session and its CSRF token. */
function change(node: Node, method: string, path: string, json: unknown): Promise<ApiResponse> {
  return api(node, path, { method, json, cookie: node.cookie, csrf: node.csrf });
}

function get(node: Node, path: string): Promise<ApiResponse> {
  return api(node, path, { cookie: node.cookie });
}

/** Posts a list to the import route as text/plain. */
async function importList(node: Node, query: string, text: string): Promise<ApiResponse> {
  const res = await fetch(`${node.url}/admin/api/overrides/import?${query}`, {
    method: "POST",
    headers: { "content-type": "text/plain", cookie: node.cookie, "x-csrf-token": node.csrf },
    body: text,
  });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body: body ? JSON.parse(body) : null };
}

const block = { type: "file", value: HASH, verdict: "malicious", reason: "seen in our SOC" };

Deno.test("GET /admin/api/lookup answers what /v1 answers, without a licence", async (t) => {
  await using node = await adminNode();
  await importInto(node, [{ type: "file", ...EICAR, verdict: "malicious" }], ORIGIN_MIRROR);
  await t.step("a listed hash gives the full result", async () => {
    const res = await get(node, `/admin/api/lookup?type=file&value=${EICAR.sha256}`);
    assert.equal(res.status, 200);
    const v1 = await api(node, `/v1/files/${EICAR.sha256}`);
    assert.deepEqual(res.body, v1.body);
    assert.equal(res.body.via, "mirror");
    assert.equal(res.headers.get("cache-control"), "no-store");
  });
  await t.step("a URL is canonicalised as /v1/urls does", async () => {
    const url = encodeURIComponent("HTTP://Example.COM/a/../b");
    const res = await get(node, `/admin/api/lookup?type=url&value=${url}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, (await api(node, `/v1/urls?url=${url}`)).body);
  });
  await t.step("an unknown type is 400 naming the type", async () => {
    const res = await get(node, "/admin/api/lookup?type=hash&value=x");
    assertError(res, 400, "invalid_request");
    assert.match(res.body.error.message, /"type"/);
  });
  await t.step("a bad hash is 400 invalid_hash", async () => {
    assertError(await get(node, "/admin/api/lookup?type=file&value=abc"), 400, "invalid_hash");
  });
  await t.step("a missing value is 400 naming the value", async () => {
    const res = await get(node, "/admin/api/lookup?type=file");
    assertError(res, 400, "invalid_request");
    assert.match(res.body.error.message, /"value"/);
  });
  await t.step("without a session it is 401", async () => {
    const res = await api(node, `/admin/api/lookup?type=file&value=${HASH}`);
    assertError(res, 401, "admin_auth_required");
  });
});

Deno.test("POST /admin/api/overrides blocks a hash on the very next look-up", async (t) => {
  await using node = await adminNode();
  await t.step("the hash is unknown before", async () => {
    assert.equal((await api(node, `/v1/files/${HASH}`)).body.via, "none");
  });
  await t.step("adding answers 201 with the override", async () => {
    const res = await change(node, "POST", "/admin/api/overrides", block);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.override, {
      type: "file",
      value: HASH,
      verdict: "malicious",
      source: "admin:admin",
      reason: "seen in our SOC",
      createdBy: "admin:admin",
      createdAt: "2026-11-28T12:00:00Z",
      expiresAt: null,
    });
  });
  await t.step("/v1 now answers the override", async () => {
    const res = await api(node, `/v1/files/${HASH.toUpperCase()}`);
    assert.equal(res.body.verdict, "malicious");
    assert.equal(res.body.via, "override");
    assert.equal(res.body.source, "admin:admin");
  });
  await t.step("adding the same object again replaces it with 200", async () => {
    const res = await change(node, "POST", "/admin/api/overrides", { ...block, verdict: "adware" });
    assert.equal(res.status, 200);
    assert.equal((await api(node, `/v1/files/${HASH}`)).body.verdict, "adware");
    const list = await get(node, "/admin/api/overrides");
    assert.equal(list.body.total, 1);
  });
  await t.step("each add is audited", () => {
    const adds = auditRows(node.serving.node, true).filter((r) => r.action === "override.add");
    assert.equal(adds.length, 2);
    assert.equal(adds[0].actor, "admin:admin");
    assert.equal(JSON.parse(adds[1].detail!).replaced, true);
  });
  await t.step("without the CSRF token it is 403", async () => {
    const res = await api(node, "/admin/api/overrides", { json: block, cookie: node.cookie });
    assertError(res, 403, "csrf_failed");
  });
  await t.step("without a session it is 401", async () => {
    assertError(
      await api(node, "/admin/api/overrides", { json: block }),
      401,
      "admin_auth_required",
    );
  });
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["verdict unknown", { ...block, verdict: "unknown" }, "invalid_request", /"verdict"/],
    ["empty reason", { ...block, reason: " " }, "invalid_request", /"reason"/],
    ["reason over 500", { ...block, reason: "x".repeat(501) }, "invalid_request", /"reason"/],
    ["control character", { ...block, reason: "a\u0007b" }, "invalid_request", /printable/],
    ["past expiry", { ...block, expires: "2026-11-28T11:00:00Z" }, "invalid_request", /future/],
    ["bad expiry", { ...block, expires: "tomorrow" }, "invalid_request", /"expires"/],
    ["unknown field", { ...block, threat: "x" }, "invalid_request", /"threat": unknown field/],
    ["bad hash", { ...block, value: "xyz" }, "invalid_hash", /xyz/],
    ["bad domain", { ...block, type: "domain", value: "a..b" }, "invalid_domain", /a\.\.b/],
  ];
  for (const [name, body, code, message] of bad) {
    await t.step(`${name} is 400 ${code}`, async () => {
      const res = await change(node, "POST", "/admin/api/overrides", body);
      assertError(res, 400, code);
      assert.match(res.body.error.message, message);
    });
  }
});

Deno.test("an allow override beats the mirror and DELETE brings the mirror back", async (t) => {
  await using node = await adminNode();
  await importInto(
    node,
    [{ type: "domain", value: "evil.example", verdict: "phishing" }],
    ORIGIN_MIRROR,
  );
  const lookup = async (): Promise<{ verdict: string; via: string }> =>
    (await api(node, "/v1/domains/www.evil.example")).body;
  const target = { type: "domain", value: "Evil.Example." };
  await t.step("the mirror answers first", async () => {
    assert.deepEqual(await lookup().then((r) => [r.verdict, r.via]), ["phishing", "mirror"]);
  });
  await t.step("an allow override answers clean", async () => {
    const res = await change(node, "POST", "/admin/api/overrides", {
      ...target,
      verdict: "clean",
      reason: "false positive, ticket 123",
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.override.value, "evil.example");
    assert.deepEqual(await lookup().then((r) => [r.verdict, r.via]), ["clean", "override"]);
  });
  await t.step("DELETE answers 204 and the mirror answers again", async () => {
    const res = await change(node, "DELETE", "/admin/api/overrides", target);
    assert.equal(res.status, 204);
    assert.deepEqual(await lookup().then((r) => [r.verdict, r.via]), ["phishing", "mirror"]);
    const removed = auditRows(node.serving.node, true).filter((r) =>
      r.action === "override.remove"
    );
    assert.equal(removed.length, 1);
  });
  await t.step("DELETE of an object without an override is 404", async () => {
    assertError(
      await change(node, "DELETE", "/admin/api/overrides", target),
      404,
      "override_not_found",
    );
  });
  await t.step("DELETE with a bad body is 400", async () => {
    const res = await change(node, "DELETE", "/admin/api/overrides", { type: "domain" });
    assertError(res, 400, "invalid_request");
  });
});

Deno.test("PATCH /admin/api/overrides edits one override", async (t) => {
  await using node = await adminNode();
  assert.equal((await change(node, "POST", "/admin/api/overrides", block)).status, 201);
  await t.step("a new verdict and reason are stored and answered", async () => {
    const res = await change(node, "PATCH", "/admin/api/overrides", {
      type: "file",
      value: HASH,
      verdict: "clean",
      reason: "vendor confirmed",
      expires: "2026-12-01",
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.override.reason, "vendor confirmed");
    assert.equal(res.body.override.expiresAt, "2026-12-01T00:00:00Z");
    assert.equal(res.body.override.createdAt, "2026-11-28T12:00:00Z");
    assert.equal((await api(node, `/v1/files/${HASH}`)).body.verdict, "clean");
  });
  await t.step("expires null removes the expiry", async () => {
    const res = await change(node, "PATCH", "/admin/api/overrides", {
      type: "file",
      value: HASH,
      expires: null,
    });
    assert.equal(res.body.override.expiresAt, null);
  });
  await t.step("nothing to change is 400", async () => {
    const res = await change(node, "PATCH", "/admin/api/overrides", { type: "file", value: HASH });
    assertError(res, 400, "invalid_request");
  });
  await t.step("an object without an override is 404", async () => {
    const res = await change(node, "PATCH", "/admin/api/overrides", {
      type: "file",
      value: EICAR.md5,
      reason: "x",
    });
    assertError(res, 404, "override_not_found");
  });
});

Deno.test("GET /admin/api/overrides lists every override newest first, filtered", async (t) => {
  await using node = await adminNode();
  await importInto(node, [{
    type: "ip",
    value: "10.1.2.0/24",
    verdict: "malicious",
    threat: "Botnet",
  }], ORIGIN_LOCAL);
  for (const [i, value] of ["a.example", "b.example", "c.example"].entries()) {
    node.clock.set(Date.UTC(2026, 10, 28, 12, i));
    const res = await change(node, "POST", "/admin/api/overrides", {
      type: "domain",
      value,
      verdict: "malicious",
      reason: i === 1 ? "Phish kit" : "spam",
    });
    assert.equal(res.status, 201);
  }
  await t.step("newest first, imported overrides last with null notes", async () => {
    const res = await get(node, "/admin/api/overrides");
    assert.equal(res.status, 200);
    assert.equal(res.body.total, 4);
    assert.deepEqual(res.body.overrides.map((o: { value: string }) => o.value), [
      "c.example",
      "b.example",
      "a.example",
      "10.1.2.0/24",
    ]);
    assert.deepEqual(res.body.overrides[3], {
      type: "ip",
      value: "10.1.2.0/24",
      verdict: "malicious",
      threat: "Botnet",
      source: "test",
      reason: null,
      createdBy: null,
      createdAt: null,
      expiresAt: null,
    });
  });
  await t.step("type, q and limit filter", async () => {
    const byType = await get(node, "/admin/api/overrides?type=ip");
    assert.deepEqual([byType.body.total, byType.body.overrides[0].value], [1, "10.1.2.0/24"]);
    const byReason = await get(node, "/admin/api/overrides?q=phish");
    assert.deepEqual([byReason.body.total, byReason.body.overrides[0].value], [1, "b.example"]);
    const limited = await get(node, "/admin/api/overrides?type=domain&limit=1");
    assert.deepEqual([limited.body.total, limited.body.overrides.length], [3, 1]);
  });
  for (const query of ["limit=0", "limit=x", "type=hash", "sort=new"]) {
    await t.step(`?${query} is 400`, async () => {
      assertError(await get(node, `/admin/api/overrides?${query}`), 400, "invalid_request");
    });
  }
});

Deno.test("an override stops answering once its expiry passed", async (t) => {
  await using node = await adminNode();
  await importInto(node, [{ type: "file", md5: EICAR.md5, verdict: "malicious" }], ORIGIN_MIRROR);
  const allow = { type: "file", value: EICAR.md5, verdict: "clean", reason: "lab test" };
  const expires = "2026-11-28T13:00:00Z";
  await change(node, "POST", "/admin/api/overrides", { ...allow, expires });
  await change(node, "POST", "/admin/api/overrides", { ...block, expires });
  await t.step("before the expiry the override answers", async () => {
    assert.equal((await api(node, `/v1/files/${EICAR.md5}`)).body.via, "override");
  });
  await t.step("expireOverrides removes both, and the mirror answers again", async () => {
    const db = node.serving.node.db;
    assert.equal(expireOverrides(db, Date.UTC(2026, 10, 28, 12, 59)), 0);
    assert.equal(expireOverrides(db, Date.UTC(2026, 10, 28, 13, 0)), 2);
    await node.serving.node.refreshIndex();
    const res = await api(node, `/v1/files/${EICAR.md5}`);
    assert.deepEqual([res.body.verdict, res.body.via], ["malicious", "mirror"]);
    assert.equal((await api(node, `/v1/files/${HASH}`)).body.via, "none");
    const expired = auditRows(node.serving.node, true).filter((r) =>
      r.action === "override.expire"
    );
    assert.equal(JSON.parse(expired[0].detail!).count, 2);
  });
  await t.step("listing removes expired overrides first", async () => {
    node.clock.set(Date.UTC(2026, 10, 28, 14, 0));
    await change(node, "POST", "/admin/api/overrides", {
      ...block,
      expires: "2026-11-28T15:00:00Z",
    });
    node.clock.set(Date.UTC(2026, 10, 28, 15, 0));
    assert.equal((await get(node, "/admin/api/overrides")).body.total, 0);
    assert.equal((await api(node, `/v1/files/${HASH}`)).body.via, "none");
  });
});

Deno.test("POST /admin/api/overrides/import stores a list all or nothing", async (t) => {
  await using node = await adminNode();
  const query = "type=domain&verdict=phishing&reason=partner%20list";
  await t.step("good lines are imported, comments and repeats skipped", async () => {
    const text = "# partner list\nOne.example\r\n\ntwo.example # kit\none.example\n";
    const res = await importList(node, query, text);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body, { imported: 2 });
    const answer = (await api(node, "/v1/domains/two.example")).body;
    assert.deepEqual([answer.verdict, answer.via], ["phishing", "override"]);
    const list = await get(node, "/admin/api/overrides");
    assert.equal(list.body.overrides[0].reason, "partner list");
  });
  await t.step("bad lines are named and nothing is imported", async () => {
    const res = await importList(node, query, "three.example\na..b\nfour example\n");
    assertError(res, 400, "invalid_list");
    assert.match(res.body.error.message, /line 2: .*a\.\.b.*; line 3: expected one value a line/);
    assert.equal((await api(node, "/v1/domains/three.example")).body.via, "none");
  });
  await t.step("an empty list is 400", async () => {
    assertError(await importList(node, query, "# nothing\n"), 400, "invalid_list");
  });
  await t.step("a missing reason or bad verdict is 400", async () => {
    assertError(
      await importList(node, "type=domain&verdict=phishing", "x.example"),
      400,
      "invalid_request",
    );
    assertError(
      await importList(node, "type=domain&verdict=bad&reason=r", "x.example"),
      400,
      "invalid_request",
    );
  });
  await t.step("a body over 1 MiB is 413", async () => {
    const res = await importList(node, query, "a.example\n".repeat(110_000));
    assertError(res, 413, "body_too_large");
  });
  await t.step("a JSON body is 415", async () => {
    const res = await api(node, `/admin/api/overrides/import?${query}`, {
      json: ["x.example"],
      cookie: node.cookie,
      csrf: node.csrf,
    });
    assertError(res, 415, "unsupported_media_type");
  });
  await t.step("without the CSRF token it is 403", async () => {
    const res = await fetch(`${node.url}/admin/api/overrides/import?${query}`, {
      method: "POST",
      headers: { "content-type": "text/plain", cookie: node.cookie },
      body: "x.example",
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "csrf_failed");
  });
});

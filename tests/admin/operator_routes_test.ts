/** The operator endpoints behind the admin login: licences and the node's participation. */
import assert from "node:assert/strict";
import { DEMO_KEY, DEMO_LOOKUP } from "../../src/demo/mod.ts";
import { fakeClock, startTestNode, type TestNode } from "../_helpers.ts";
import {
  api,
  assertError,
  auditRows,
  type LoggedIn,
  logIn,
  PASSWORD,
  startAdminNode,
} from "./_admin.ts";

/** A demo node with licence checks on, its admin account set up and logged in. */
async function demoNode(): Promise<TestNode & LoggedIn> {
  const node = await startTestNode({
    demo: true,
    config: { auth: { required: true }, store: { reloadCheckSeconds: 3600 } },
    clock: fakeClock(),
  });
  const token = node.logLines.join("\n").match(/Admin setup token [^:]*: ([0-9a-f]{32})/)![1];
  const setup = await api(node, "/admin/api/setup", {
    json: { token, username: "admin", password: PASSWORD },
  });
  assert.equal(setup.status, 201);
  return Object.assign(node, await logIn(node));
}

async function demoLookup(node: TestNode): Promise<Response> {
  return await fetch(node.url + DEMO_LOOKUP, { headers: { authorization: `Bearer ${DEMO_KEY}` } });
}

Deno.test("GET /admin/api/licences lists the licences without their keys", async () => {
  await using node = await demoNode();
  const res = await api(node, "/admin/api/licences", { cookie: node.cookie });
  assert.equal(res.status, 200);
  assert.equal(res.body.licences.length, 1);
  assert.equal(res.body.licences[0].status, "active");
  assert.match(res.body.licences[0].keyId, /^[0-9a-f]{8}$/);
  assert.ok(!JSON.stringify(res.body).includes(DEMO_KEY));
});

Deno.test("revoking a licence through the admin API takes effect on the next look-up", async () => {
  await using node = await demoNode();
  const before = await demoLookup(node);
  await before.body?.cancel();
  assert.equal(before.status, 200);
  const { licences } = (await api(node, "/admin/api/licences", { cookie: node.cookie })).body;
  const res = await api(node, `/admin/api/licences/${licences[0].id}/revoke`, {
    json: { reason: "customer left" },
    cookie: node.cookie,
    csrf: node.csrf,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.licence.status, "revoked");
  const after = await demoLookup(node);
  assert.equal(after.status, 401);
  assert.equal((await after.json()).error.code, "license_revoked");
  const audit = auditRows(node.serving.node, true).filter((r) => r.action === "licence.revoke");
  assert.deepEqual(audit.map((r) => [r.actor, JSON.parse(r.detail!).reason]), [
    ["admin:admin", "customer left"],
  ]);
});

Deno.test("POST /admin/api/licences/{id}/revoke works without a body", async () => {
  await using node = await demoNode();
  const { licences } = (await api(node, "/admin/api/licences", { cookie: node.cookie })).body;
  const res = await api(node, `/admin/api/licences/${licences[0].id}/revoke`, {
    method: "POST",
    cookie: node.cookie,
    csrf: node.csrf,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const again = await api(node, `/admin/api/licences/${licences[0].id}/revoke`, {
    method: "POST",
    cookie: node.cookie,
    csrf: node.csrf,
  });
  assertError(again, 409, "license_revoked");
});

Deno.test("POST /admin/api/licences/{id}/revoke answers 404 for an unknown id and 400 for a key", async () => {
  await using node = await demoNode();
  const send = (id: string): ReturnType<typeof api> =>
    api(node, `/admin/api/licences/${encodeURIComponent(id)}/revoke`, {
      json: {},
      cookie: node.cookie,
      csrf: node.csrf,
    });
  assertError(await send("999"), 404, "license_not_found");
  assertError(await send(DEMO_KEY), 400, "invalid_request");
});

Deno.test("GET /admin/api/participation answers the node's participation", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie } = await logIn(node);
  const res = await api(node, "/admin/api/participation", { cookie });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, node.node.participation.state);
});

Deno.test("POST /admin/api/participation needs the statement accepted and audits the admin", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie, csrf } = await logIn(node);
  const refused = await api(node, "/admin/api/participation", {
    json: { mode: "without-statistics" },
    cookie,
    csrf,
  });
  assertError(refused, 409, "statement_not_accepted");
  const res = await api(node, "/admin/api/participation", {
    json: { mode: "without-statistics", acceptStatement: true },
    cookie,
    csrf,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.mode, "without-statistics");
  assert.equal(res.body.statementAccepted, true);
  assert.equal(res.body.upstream.lookups, true);
  const audit = auditRows(node.node, true).filter((r) => r.action === "node.participation");
  assert.deepEqual(audit.map((r) => r.actor), ["admin:admin"]);
});

Deno.test("POST /admin/api/participation rejects an unknown mode with 400 invalid_request", async () => {
  await using node = await startAdminNode();
  await node.auth.setPassword("admin", PASSWORD);
  const { cookie, csrf } = await logIn(node);
  const res = await api(node, "/admin/api/participation", {
    json: { mode: "everything" },
    cookie,
    csrf,
  });
  assertError(res, 400, "invalid_request");
  assert.match(res.body.error.message, /do-not-participate/);
});

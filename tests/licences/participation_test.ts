/** A client's participation choice and KSN Statement acceptance, over real HTTP. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { publishStatement } from "../../src/licences/mod.ts";
import { openDatabase } from "../../src/store/database.ts";
import {
  acceptStatement,
  addLicence,
  assertError,
  assertUnauthorized,
  bearer,
  choose,
  lookup,
  readyClient,
  request,
  startAuthNode,
} from "./_licences.ts";

Deno.test("GET /v1/statement answers without a licence with the version, text and publication time", async () => {
  await using node = await startAuthNode();
  const res = await request(node, "/v1/statement");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ["publishedAt", "text", "version"]);
  assert.equal(res.body.version, 1);
  assert.match(res.body.text, /KSN Statement/);
  assert.equal(
    res.body.publishedAt,
    new Date(node.clock.now()).toISOString().replace(".000Z", "Z"),
  );
});

Deno.test("a licensed client that has not chosen a participation mode is refused look-ups with 403 participation_required", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node);
  const message = assertError(await lookup(node, key), 403, "participation_required");
  assert.match(message, /GET \/v1\/statement/);
  assert.match(message, /POST \/v1\/participation/);
});

Deno.test("a client that chose mode none is refused look-ups with 403 participation_required", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node);
  const chosen = await choose(node, key, { mode: "none" });
  assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
  assertError(await lookup(node, key), 403, "participation_required");
});

Deno.test("accepting the current statement with a participation mode lets look-ups through", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node);
  const chosen = await choose(node, key, { mode: "with-statistics", statementVersion: 1 });
  assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
  assert.deepEqual(chosen.body, {
    mode: "with-statistics",
    statementVersion: 1,
    currentStatementVersion: 1,
  });
  const res = await lookup(node, key);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.verdict, "unknown");
});

Deno.test("after the operator publishes a new statement version, look-ups are refused until the client accepts it", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  assert.equal((await lookup(node, key)).status, 200);

  const version = publishStatement(
    node.serving.node.db,
    "KSN Statement, second edition: statistics are kept for 30 days.",
    node.clock.now(),
  );
  assert.equal(version, 2);
  await node.serving.node.refreshIfChanged();

  const message = assertError(await lookup(node, key), 403, "participation_required");
  assert.match(message, /version 2 has not been accepted/);
  const statement = await request(node, "/v1/statement");
  assert.equal(statement.body.version, 2);
  assert.match(statement.body.text, /second edition/);
  const current = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.equal(current.status, 200);
  assert.equal(current.body.statementVersion, 1);
  assert.equal(current.body.currentStatementVersion, 2);

  const again = await choose(node, key, { mode: "without-statistics", statementVersion: 2 });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal((await lookup(node, key)).status, 200);
});

Deno.test("a statement published by another connection takes effect once the node reloads its settings", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  const other = openDatabase(join(node.dataDir, "pksn.db"));
  try {
    publishStatement(other, "A statement from another process", node.clock.now());
  } finally {
    other.close();
  }
  assert.ok((await node.serving.node.refreshIfChanged()).includes("settings"));
  assertError(await lookup(node, key), 403, "participation_required");
});

Deno.test("POST /v1/participation with an older statement version is refused with 409 statement_not_accepted", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  publishStatement(node.serving.node.db, "Second statement", node.clock.now());
  await node.serving.node.refreshIfChanged();

  const old = await choose(node, key, { mode: "with-statistics", statementVersion: 1 });
  const message = assertError(old, 409, "statement_not_accepted");
  assert.match(message, /version 2, not 1/);
  const missing = await choose(node, key, { mode: "save-statistics-to-file" });
  assertError(missing, 409, "statement_not_accepted");
  assertError(await lookup(node, key), 403, "participation_required");
});

Deno.test("mode none needs no statement version and records no acceptance", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node);
  const chosen = await choose(node, key, { mode: "none" });
  assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
  assert.deepEqual(chosen.body, {
    mode: "none",
    statementVersion: null,
    currentStatementVersion: 1,
  });
  const current = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.equal(current.body.mode, "none");
  assert.equal(current.body.statementVersion, null);
});

Deno.test("a participation mode the licence does not allow is refused with 403 mode_not_allowed", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node, { modes: ["none"] });
  const refused = await choose(node, key, { mode: "with-statistics", statementVersion: 1 });
  const message = assertError(refused, 403, "mode_not_allowed");
  assert.match(message, /"with-statistics"/);
  assert.match(message, /allowed none/);
  assert.equal((await choose(node, key, { mode: "none" })).status, 200);
  const current = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.deepEqual(current.body.allowedModes, ["none"]);
});

Deno.test("an invalid participation choice is refused with 400", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node);
  const cases: [body: unknown, code: string][] = [
    ["not json", "invalid_json"],
    [{}, "invalid_request"],
    [{ mode: "everything" }, "invalid_request"],
    [{ mode: "with-statistics", statementVersion: "1" }, "invalid_request"],
    [{ mode: "with-statistics", statementVersion: 0 }, "invalid_request"],
    [{ mode: "with-statistics", statementVersion: 1.5 }, "invalid_request"],
    [{ mode: "none", extra: true }, "invalid_request"],
    [[], "invalid_request"],
  ];
  for (const [body, code] of cases) {
    const res = await choose(node, key, body);
    assertError(res, 400, code);
  }
  const current = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.equal(current.body.mode, null, "nothing was recorded");
});

Deno.test("POST /v1/participation needs a licence", async () => {
  await using node = await startAuthNode();
  const res = await request(node, "/v1/participation", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode: "none" }),
  });
  assertUnauthorized(res, "license_missing");
});

Deno.test("GET /v1/participation needs a licence and reports the client's choice", async () => {
  await using node = await startAuthNode();
  assertUnauthorized(await request(node, "/v1/participation"), "license_missing");
  const key = await addLicence(node, { modes: ["without-statistics", "none"] });
  const before = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.equal(before.status, 200, JSON.stringify(before.body));
  assert.deepEqual(before.body, {
    mode: null,
    statementVersion: null,
    currentStatementVersion: 1,
    allowedModes: ["without-statistics", "none"],
  });
  await acceptStatement(node, key, "without-statistics");
  const after = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.equal(after.body.mode, "without-statistics");
  assert.equal(after.body.statementVersion, 1);
});

Deno.test("GET /v1/node needs a licence but no participation choice", async () => {
  await using node = await startAuthNode();
  assertUnauthorized(await request(node, "/v1/node"), "license_missing");
  const key = await addLicence(node);
  const res = await request(node, "/v1/node", { headers: bearer(key) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.participation.mode, "do-not-participate");
  assert.deepEqual(res.body.participation.upstream, {
    lookups: false,
    statistics: false,
    samples: false,
  });
});

Deno.test("one client's participation choice does not change another client's", async () => {
  await using node = await startAuthNode();
  const ready = await readyClient(node);
  const fresh = await addLicence(node);
  assertError(await lookup(node, fresh), 403, "participation_required");
  assert.equal((await lookup(node, ready)).status, 200);
});

Deno.test({
  name:
    "a client can accept the statement version GET /v1/statement just served, even before the node's reload timer runs",
  fn: async () => {
    await using node = await startAuthNode();
    const key = await addLicence(node);
    const other = openDatabase(join(node.dataDir, "pksn.db"));
    try {
      publishStatement(other, "A statement from another process", node.clock.now());
    } finally {
      other.close();
    }
    const statement = await request(node, "/v1/statement");
    const res = await choose(node, key, {
      mode: "with-statistics",
      statementVersion: statement.body.version,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  },
});

Deno.test("a client may always choose none, even when its licence lists only other modes", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node, { modes: ["with-statistics", "without-statistics"] });
  await acceptStatement(node, key, "with-statistics");
  const before = await request(node, "/v1/participation", { headers: bearer(key) });
  assert.deepEqual(before.body.allowedModes, ["with-statistics", "without-statistics", "none"]);
  const out = await choose(node, key, { mode: "none" });
  assert.equal(out.status, 200, JSON.stringify(out.body));
  assert.equal(out.body.mode, "none");
  const refused = await choose(node, key, { mode: "save-statistics-to-file", statementVersion: 1 });
  assertError(refused, 403, "mode_not_allowed");
});

Deno.test("participation and node requests are not charged to the licence's look-up quota", async () => {
  await using node = await startAuthNode();
  const key = await addLicence(node, { quota: 2 });
  for (let i = 0; i < 5; i++) {
    assert.equal((await request(node, "/v1/participation", { headers: bearer(key) })).status, 200);
    assert.equal((await request(node, "/v1/node", { headers: bearer(key) })).status, 200);
  }
  await acceptStatement(node, key, "with-statistics");
  const lookup = (): Promise<{ status: number }> =>
    request(node, "/v1/files/0123456789abcdef0123456789abcdef", { headers: bearer(key) });
  assert.equal((await lookup()).status, 200);
  assert.equal((await lookup()).status, 200);
  assert.equal(
    (await lookup()).status,
    429,
    "the third look-up in the minute is over the quota of 2",
  );
});

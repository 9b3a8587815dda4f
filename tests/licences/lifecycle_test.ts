/**
 * The licence lifecycle as a running node sees it: rotation with a grace period,
 * revocation by another process without a restart, and per-licence quotas.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LicenceService, publishStatement } from "../../src/licences/mod.ts";
import { openDatabase } from "../../src/store/database.ts";
import { LicenceRepository } from "../../src/store/licences.ts";
import { runCli } from "../_helpers.ts";
import {
  assertError,
  assertUnauthorized,
  type AuthNode,
  choose,
  DAY_MS,
  DAY_S,
  eventually,
  lookup,
  nowSeconds,
  readyClient,
  startAuthNode,
} from "./_licences.ts";

/** Changes licences through a second connection and service, as another process would. */
async function withOtherProcess<T>(
  node: AuthNode,
  change: (service: LicenceService) => T,
): Promise<T> {
  const db = openDatabase(join(node.dataDir, "pksn.db"));
  try {
    const secret = await Deno.readFile(join(node.dataDir, "node.secret"));
    return change(
      new LicenceService({ db, licences: new LicenceRepository(db), secret, clock: node.clock }),
    );
  } finally {
    db.close();
  }
}

Deno.test("after rotation both keys work until the grace period ends, then the old key is refused with license_expired", async () => {
  await using node = await startAuthNode();
  const oldKey = await readyClient(node);
  const rotatedAt = node.clock.now();
  const { key: newKey, old } = node.serving.node.licences.rotate(
    oldKey,
    undefined,
    { graceSeconds: 14 * DAY_S },
    "test",
  );
  await node.serving.node.refreshIfChanged();
  assert.equal(old.graceUntil, new Date(rotatedAt + 14 * DAY_MS).toISOString().slice(0, 19) + "Z");

  assert.equal((await lookup(node, oldKey)).status, 200, "old key works during the grace period");
  assert.equal((await lookup(node, newKey)).status, 200, "new key works at once");

  node.clock.set(rotatedAt + 14 * DAY_MS - 1000);
  assert.equal((await lookup(node, oldKey)).status, 200, "old key works in the last second");

  node.clock.set(rotatedAt + 14 * DAY_MS + 1000);
  const message = assertUnauthorized(await lookup(node, oldKey), "license_expired");
  assert.match(message, /service provider/);
  const renewed = await lookup(node, newKey);
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
});

Deno.test("a rotated key keeps the client's participation, so the new key needs no re-acceptance", async () => {
  await using node = await startAuthNode();
  const oldKey = await readyClient(node);
  const { key: newKey, renewed } = node.serving.node.licences.rotate(
    oldKey,
    "ACME-RENEWED-2027",
    { graceSeconds: 14 * DAY_S },
    "test",
  );
  await node.serving.node.refreshIfChanged();
  assert.equal(newKey, "ACME-RENEWED-2027");
  assert.deepEqual(renewed.participation, { mode: "without-statistics", statementVersion: 1 });
  node.clock.set(node.clock.now() + 15 * DAY_MS);
  const res = await lookup(node, newKey);
  assert.equal(res.status, 200, JSON.stringify(res.body));
});

Deno.test("a rotation's grace period never outlasts the old licence's own expiry", async () => {
  await using node = await startAuthNode();
  const expires = nowSeconds(node) + 5 * DAY_S;
  const oldKey = await readyClient(node, { expires });
  const { key: newKey } = node.serving.node.licences.rotate(oldKey, undefined, {
    graceSeconds: 14 * DAY_S,
    expires: expires + 365 * DAY_S,
  }, "test");
  await node.serving.node.refreshIfChanged();
  node.clock.set(expires * 1000);
  assertUnauthorized(await lookup(node, oldKey), "license_expired");
  assert.equal((await lookup(node, newKey)).status, 200);
});

Deno.test("a cached working key revoked by the license revoke command is refused once the node refreshes, without a restart", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  assert.equal((await lookup(node, key)).status, 200, "the key is verified and cached");

  const revoked = await runCli(
    ["license", "revoke", "-", "--data", node.dataDir, "--actor", "ops", "--reason", "unpaid"],
    { stdin: `${key}\n` },
  );
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /^Revoked licence #1 for "Example Customer"/);

  assert.ok((await node.serving.node.refreshIfChanged()).includes("licences"));
  assertUnauthorized(await lookup(node, key), "license_revoked");
});

Deno.test("a running node refuses a key revoked by another process on its own within store.reloadCheckSeconds", async () => {
  await using node = await startAuthNode({ config: { store: { reloadCheckSeconds: 0.2 } } });
  const key = await readyClient(node);
  assert.equal((await lookup(node, key)).status, 200, "the key is verified and cached");

  await withOtherProcess(node, (service) => service.revoke(key, "other-process"));

  const refused = await eventually(async () => (await lookup(node, key)).status === 401);
  assert.ok(refused, "the revoked key was still accepted after 5 s");
  assertUnauthorized(await lookup(node, key), "license_revoked");
});

Deno.test("a key refused as unknown is accepted once another process registers it and the node refreshes", async () => {
  await using node = await startAuthNode();
  const key = "LATE-REGISTERED-KEY";
  assertUnauthorized(await lookup(node, key), "license_unknown");
  await withOtherProcess(node, (service) =>
    service.add({
      customer: "Late Customer",
      key,
      expires: nowSeconds(node) + 30 * DAY_S,
    }, "other-process"));
  await node.serving.node.refreshIfChanged();
  assertError(await lookup(node, key), 403, "participation_required");
});

Deno.test("a licence with a quota of 3 per minute gets 429 rate_limited with Retry-After on the 4th look-up, and look-ups again a minute later", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node, { quota: 3 });
  // Accepting the statement was itself a request; start a fresh minute for the look-ups.
  node.clock.set(node.clock.now() + 60_000);

  for (let i = 1; i <= 3; i++) {
    const res = await lookup(node, key);
    assert.equal(res.status, 200, `look-up ${i}: ${JSON.stringify(res.body)}`);
  }
  node.clock.set(node.clock.now() + 20_000);
  const limited = await lookup(node, key);
  const message = assertError(limited, 429, "rate_limited");
  assert.match(message, /quota of 3 requests per minute/);
  const retryAfter = limited.headers.get("retry-after");
  assert.match(retryAfter ?? "", /^[1-9]\d*$/, `Retry-After ${retryAfter}`);
  assert.equal(Number(retryAfter), 40);

  node.clock.set(node.clock.now() + 40_000);
  const again = await lookup(node, key);
  assert.equal(again.status, 200, JSON.stringify(again.body));
});

Deno.test("one licence's used-up quota does not limit another licence", async () => {
  await using node = await startAuthNode();
  const limited = await readyClient(node, { quota: 1 });
  const other = await readyClient(node, { quota: 1 });
  node.clock.set(node.clock.now() + 60_000);
  assert.equal((await lookup(node, limited)).status, 200);
  assertError(await lookup(node, limited), 429, "rate_limited");
  assert.equal((await lookup(node, other)).status, 200);
});

Deno.test("a licence without a quota is never rate limited", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  const statuses = new Set<number>();
  for (let i = 0; i < 200; i++) statuses.add((await lookup(node, key)).status);
  assert.deepEqual([...statuses], [200]);
});

Deno.test({
  name:
    "a statement re-accepted with the old key during the grace period carries over to the new key",
  fn: async () => {
    await using node = await startAuthNode();
    const oldKey = await readyClient(node);
    const { key: newKey } = node.serving.node.licences.rotate(oldKey, undefined, {
      graceSeconds: 14 * DAY_S,
    }, "test");
    node.clock.set(node.clock.now() + DAY_MS);
    publishStatement(
      node.serving.node.db,
      "Statement published during the grace",
      node.clock.now(),
    );
    await node.serving.node.refreshIfChanged();
    assert.equal(
      (await choose(node, oldKey, { mode: "without-statistics", statementVersion: 2 }))
        .status,
      200,
    );
    assert.equal((await lookup(node, oldKey)).status, 200);

    const res = await lookup(node, newKey);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  },
});

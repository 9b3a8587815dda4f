import assert from "node:assert/strict";
import { addLicence, assertError, assertUnauthorized, request } from "../licences/_licences.ts";
import { DAY1, dayRecords, postStats, record, startStatsNode, statsClient } from "./_stats.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("POST /v1/stats without a licence key answers 401 license_missing", async () => {
  await using node = await startStatsNode();
  assertUnauthorized(await postStats(node, undefined, [record()]), "license_missing");
  assertUnauthorized(await postStats(node, "NO-SUCH-KEY-1234", [record()]), "license_unknown");
});

Deno.test("POST /v1/stats refuses clients not in mode with-statistics with 403 statistics_not_enabled", async () => {
  await using node = await startStatsNode();
  const without = await statsClient(node, "without-statistics");
  const toFile = await statsClient(node, "save-statistics-to-file");
  const undecided = await addLicence(node);
  for (const key of [without, toFile, undecided]) {
    const message = assertError(
      await postStats(node, key, [record()]),
      403,
      "statistics_not_enabled",
    );
    assert.match(message, /with-statistics/);
  }
  assert.deepEqual(await dayRecords(node.dataDir, DAY1), []);
});

Deno.test("POST /v1/stats answers 202 with counts, per-record errors and a batch id", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const res = await postStats(node, key, [
    record(),
    record({ clientIp: "192.0.2.1" }),
    record({ verdict: "clean", threat: undefined, filePath: "C:\\Users\\alice\\a.txt" }),
    "not an object",
  ]);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body), ["accepted", "rejected", "errors", "batchId"]);
  assert.equal(res.body.accepted, 2);
  assert.equal(res.body.rejected, 2);
  assert.deepEqual(res.body.errors, [
    { index: 1, message: 'Field "clientIp": unknown field, not stored' },
    { index: 3, message: "Expected a JSON object" },
  ]);
  assert.match(res.body.batchId, UUID);
  const stored = await dayRecords(node.dataDir, DAY1);
  assert.equal(stored.length, 2);
  assert.equal(stored[0].receivedAt, "2026-11-28T12:00:00.000Z");
  assert.equal(stored[1].fileExtension, "txt");
  const text = JSON.stringify(stored);
  assert.ok(!text.includes("192.0.2.1") && !text.includes("alice"), "no personal data stored");
});

Deno.test("POST /v1/stats takes NDJSON, one record a line", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const body = [record(), record({ verdict: "adware" })].map((r) => JSON.stringify(r)).join("\n") +
    "\n\n";
  const res = await postStats(node, key, body, { contentType: "application/x-ndjson" });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.accepted, 2);
  assert.deepEqual((await dayRecords(node.dataDir, DAY1)).map((r) => r.verdict), [
    "malicious",
    "adware",
  ]);
});

Deno.test("POST /v1/stats answers 413 past the record and byte limits", async () => {
  await using node = await startStatsNode({ stats: { maxBatchRecords: 3, maxBatchBytes: 2048 } });
  const key = await statsClient(node);
  const four = [record(), record(), record(), record()];
  assertError(await postStats(node, key, four), 413, "too_many_records");
  const ndjson = four.map((r) => JSON.stringify(r)).join("\n");
  assertError(await postStats(node, key, ndjson), 413, "too_many_records");
  const padded = JSON.stringify([record()]).padEnd(2049);
  assertError(
    await postStats(node, key, padded, { contentType: "application/json" }),
    413,
    "body_too_large",
  );
  assert.deepEqual(await dayRecords(node.dataDir, DAY1), []);
});

Deno.test("POST /v1/stats answers 415 for another content type", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  assertError(
    await postStats(node, key, [record()], { contentType: "text/plain" }),
    415,
    "unsupported_media_type",
  );
  assertError(
    await postStats(node, key, [record()], { contentType: null }),
    415,
    "unsupported_media_type",
  );
});

Deno.test("POST /v1/stats answers 400 for a body that is not JSON or NDJSON", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const json = { contentType: "application/json" };
  assertError(await postStats(node, key, "[{", json), 400, "invalid_json");
  assertError(await postStats(node, key, JSON.stringify(record()), json), 400, "invalid_request");
  const message = assertError(
    await postStats(node, key, `${JSON.stringify(record())}\n{"detectedAt":`),
    400,
    "invalid_ndjson",
  );
  assert.match(message, /line 2/);
  assertError(
    await postStats(node, key, [record()], { idempotencyKey: "has space" }),
    400,
    "invalid_idempotency_key",
  );
  assert.deepEqual(await dayRecords(node.dataDir, DAY1), []);
});

Deno.test("GET /v1/stats answers 405 with Allow: POST", async () => {
  await using node = await startStatsNode();
  const res = await request(node, "/v1/stats");
  assertError(res, 405, "method_not_allowed");
  assert.equal(res.headers.get("allow"), "POST");
});

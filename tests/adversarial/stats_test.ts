/**
 * Issue 9, hostile statistics records: one bad record must cost little and
 * never fail its batch, and every refusal names the actual problem.
 */
import assert from "node:assert/strict";
import {
  DAY1,
  dayRecords,
  noon,
  openTestStats,
  postStats,
  record,
  startStatsNode,
  statsClient,
} from "../stats/_stats.ts";

Deno.test("POST /v1/stats stores the valid records of a batch whose other record has a 4-million-character threat", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const threat = "Ж".repeat(4_250_000);
  const res = await postStats(node, key, [
    record({ size: 1 }),
    record({ size: 2, threat }),
    record({ size: 3 }),
    record({ size: 4 }),
  ]);
  assert.equal(res.status, 202, JSON.stringify(res.body).slice(0, 500));
  assert.equal(res.body.accepted, 3);
  assert.deepEqual(res.body.errors, [
    { index: 1, message: 'Field "threat": expected at most 256 characters, got 4250000' },
  ]);
  assert.deepEqual((await dayRecords(node.dataDir, DAY1)).map((r) => r.size), [1, 3, 4]);
});

Deno.test("POST /v1/stats says a field has the wrong type or value instead of calling it required", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const { detectedAt: _, ...undated } = record();
  const res = await postStats(node, key, [
    record({ size: "100" }),
    record({ size: 1.5 }),
    record({ size: -1 }),
    record({ threat: 5 }),
    record({ threat: null }),
    record({ verdict: "evil" }),
    undated,
  ]);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.deepEqual(res.body.errors.map((e: { message: string }) => e.message), [
    'Field "size": expected a whole number of bytes, got a string',
    'Field "size": expected a whole number of bytes, got 1.5',
    'Field "size": expected a whole number of bytes, got -1',
    'Field "threat": expected 1 to 256 printable characters, got a number',
    'Field "threat": expected 1 to 256 printable characters, got null',
    'Field "verdict": expected one of unknown, clean, malicious, phishing, adware, suspicious, ' +
    'got "evil"',
    'Field "detectedAt": required',
  ]);
});

Deno.test("POST /v1/stats refuses a detectedAt in 1970 or 2030 and accepts one within a day ahead or a year behind the node's clock", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const now = noon(DAY1);
  assert.equal(node.clock.now(), now, "the node's clock reads noon on DAY1");
  const res = await postStats(node, key, [
    record({ detectedAt: "1970-01-01T00:00:00Z" }),
    record({ detectedAt: "2030-01-01T00:00:00Z" }),
    record({ detectedAt: new Date(now + 86_400_000 + 1000).toISOString() }),
    record({ detectedAt: new Date(now + 23 * 3_600_000).toISOString() }),
    record({ detectedAt: new Date(now - 364 * 86_400_000).toISOString() }),
  ]);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.accepted, 2, JSON.stringify(res.body));
  assert.deepEqual(res.body.errors.map((e: { index: number }) => e.index), [0, 1, 2]);
  assert.equal(
    res.body.errors[0].message,
    'Field "detectedAt": expected a time in the last 365 days and at most 1 day ahead of ' +
      'this node\'s clock (2026-11-28T12:00:00.000Z), got "1970-01-01T00:00:00.000Z"',
  );
});

Deno.test("a record whose check throws is rejected on its own and the batch's other records are stored", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  // Not something JSON can carry: it stands in for any failure inside the check.
  const hostile = {
    ...record(),
    get threat(): string {
      throw new RangeError("Maximum call stack size exceeded");
    },
  };
  const result = await t.stats.ingest.accept(1, [
    record({ size: 1 }),
    hostile,
    record({ size: 3 }),
  ]);
  assert.equal(result.accepted, 2);
  assert.deepEqual(result.errors, [
    { index: 1, message: "Cannot check this record: internal error, see the node's log" },
  ]);
  assert.deepEqual((await dayRecords(t.dataDir, DAY1)).map((r) => r.size), [1, 3]);
  assert.ok(
    t.logLines.some((l) =>
      l.includes("Cannot check 1 record(s) of statistics batch") &&
      l.includes("the first at index 1: Maximum call stack size exceeded")
    ),
    t.logLines.join("\n"),
  );
});

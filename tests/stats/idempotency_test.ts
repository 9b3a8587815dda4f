import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { type AcceptedBatch, dayFile, openStats } from "../../src/stats/mod.ts";
import { fakeClock, tempDir } from "../_helpers.ts";
import { DAY1, dayRecords, postStats, record, startStatsNode, statsClient } from "./_stats.ts";

Deno.test("a batch sent again with the same Idempotency-Key is answered again and stored once", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const batch = [record(), record({ userName: "alice" }), record({ verdict: "phishing" })];
  const first = await postStats(node, key, batch, { idempotencyKey: "batch-0001" });
  assert.equal(first.status, 202);
  assert.deepEqual(
    { ...first.body, errors: first.body.errors.length },
    { accepted: 2, rejected: 1, errors: 1, batchId: "batch-0001" },
  );
  assert.equal(first.headers.get("idempotent-replayed"), null);
  const again = await postStats(node, key, batch, { idempotencyKey: "batch-0001" });
  assert.equal(again.status, 202);
  assert.deepEqual(again.body, { accepted: 2, rejected: 1, errors: [], batchId: "batch-0001" });
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal((await dayRecords(node.dataDir, DAY1)).length, 2);
});

Deno.test("the same Idempotency-Key from another licence is another batch", async () => {
  await using node = await startStatsNode();
  const one = await statsClient(node);
  const two = await statsClient(node);
  assert.equal((await postStats(node, one, [record()], { idempotencyKey: "k-1" })).status, 202);
  const other = await postStats(node, two, [record()], { idempotencyKey: "k-1" });
  assert.equal(other.headers.get("idempotent-replayed"), null);
  assert.equal((await dayRecords(node.dataDir, DAY1)).length, 2);
});

Deno.test("one Idempotency-Key sent twice at the same time is stored once", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const batch = Array.from({ length: 50 }, () => record());
  const answers = await Promise.all(
    [1, 2, 3].map(() => postStats(node, key, batch, { idempotencyKey: "same-time" })),
  );
  assert.deepEqual(answers.map((a) => a.status), [202, 202, 202]);
  assert.deepEqual(answers.map((a) => a.body.accepted), [50, 50, 50]);
  assert.equal(answers.filter((a) => a.headers.get("idempotent-replayed") === "true").length, 2);
  assert.equal((await dayRecords(node.dataDir, DAY1)).length, 50);
});

Deno.test("onAccepted gets the accepted records and their NDJSON after they are on disk", async () => {
  await using dir = await tempDir();
  const db = await openStore(dir.path, { cacheMiB: 8, log: memoryLogger() });
  const seen: { batch: AcceptedBatch; fileAtCall: string }[] = [];
  const log = memoryLogger();
  const stats = await openStats({
    dataDir: dir.path,
    db,
    clock: fakeClock(),
    log,
    config: DEFAULTS.stats,
    onAccepted: (batch) => {
      seen.push({ batch, fileAtCall: Deno.readTextFileSync(dayFile(stats.dir, DAY1)) });
      if (seen.length === 3) throw new Error("spool is full");
    },
  });
  try {
    const keyed = await stats.ingest.accept(1, [record(), { hostName: "pc-7" }], "k-7");
    assert.equal(keyed.batchId, "k-7");
    const random = await stats.ingest.accept(1, [record({ verdict: "clean" })]);
    const none = await stats.ingest.accept(1, [{ hostName: "pc-7" }]);
    assert.equal(none.accepted, 0);
    const failing = await stats.ingest.accept(1, [record()]);
    assert.equal(failing.accepted, 1, "a failing hook does not fail the batch");

    assert.deepEqual(seen.map((s) => s.batch.id), ["k-7", random.batchId, failing.batchId]);
    assert.deepEqual(seen[0].batch.records.map((r) => r.verdict), ["malicious"]);
    const ndjson = new TextDecoder().decode(seen[0].batch.ndjson);
    assert.equal(ndjson, JSON.stringify(seen[0].batch.records[0]) + "\n");
    assert.ok(seen[0].fileAtCall.endsWith(ndjson), "the lines were in the file when the hook ran");
    assert.ok(log.lines.some((l) => l.includes("hook failed: spool is full")));
  } finally {
    await stats.close();
    db.close();
  }
});

Deno.test("a batch's idempotency key and its upstream queueing commit in one transaction", async () => {
  await using dir = await tempDir();
  const db = await openStore(dir.path, { cacheMiB: 8, log: memoryLogger() });
  const inTransaction: boolean[] = [];
  const stats = await openStats({
    dataDir: dir.path,
    db,
    clock: fakeClock(),
    log: memoryLogger(),
    config: DEFAULTS.stats,
    onAccepted: () => {
      inTransaction.push(db.isTransaction);
    },
  });
  try {
    await stats.ingest.accept(1, [record()], "k-1");
    await stats.ingest.accept(1, [record()]);
    assert.deepEqual(inTransaction, [true, false], "keyed: inside the key's transaction");
    assert.equal(db.isTransaction, false);
  } finally {
    await stats.close();
    db.close();
  }
});

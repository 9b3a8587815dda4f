/** Forwarding statistics through upstream failures: nothing lost, nothing stored twice. */
import assert from "node:assert/strict";
import { MAX_BACKOFF_MS } from "../../src/core/retry.ts";
import { advance, NODE_KEY, openRig, startFakeParent, statisticsBatch } from "./_forward.ts";
import { runCli } from "../_helpers.ts";

/** Runs passes, moving the clock a minute each time, until the spool is empty. */
async function drain(rig: Awaited<ReturnType<typeof openRig>>, passes = 20): Promise<void> {
  for (let i = 0; i < passes && rig.spool.totals().statistics.entries > 0; i++) {
    await rig.forwarder.runOnce();
    advance(rig, 60_000);
  }
}

Deno.test("queued statistics reach the parent as NDJSON with the node's key and an Idempotency-Key", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  assert.equal(rig.spool.enqueue("statistics", "batch-1", statisticsBatch("a")), "queued");

  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 1, failed: 0 });
  assert.equal(parent.arrivals.length, 1);
  const [arrival] = parent.arrivals;
  assert.equal(arrival.path, "/v1/stats");
  assert.equal(arrival.headers.get("content-type"), "application/x-ndjson");
  assert.equal(arrival.headers.get("authorization"), `Bearer ${NODE_KEY}`);
  assert.equal(arrival.headers.get("idempotency-key"), "batch-1");
  assert.deepEqual(arrival.body, statisticsBatch("a"));
  assert.equal(rig.spool.totals().statistics.entries, 0, "delivered entries leave the spool");
});

Deno.test("a parent that answers 503 and then recovers gets every batch exactly once, retries reusing the key", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  for (const id of ["b1", "b2", "b3"]) rig.spool.enqueue("statistics", id, statisticsBatch(id));
  parent.failNext(3, { status: 503 });

  await drain(rig);

  assert.deepEqual([...parent.stores.entries()].sort(), [["b1", 1], ["b2", 1], ["b3", 1]]);
  for (const id of ["b1", "b2", "b3"]) {
    assert.deepEqual(parent.batches.get(id), statisticsBatch(id));
  }
  const keys = parent.statisticsKeys();
  assert.equal(keys.filter((k) => k === "b1").length, 4, "b1 was tried 4 times under one key");
  assert.ok(keys.every((k) => ["b1", "b2", "b3"].includes(k)), "no other key was ever used");
  assert.equal(rig.spool.totals().statistics.entries, 0);
  assert.equal(rig.forwarder.counts("statistics").sent, 3);
  assert.equal(rig.forwarder.counts("statistics").failed, 3);
});

Deno.test("an answer lost after the parent stored the batch is retried and the parent keeps it once", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  rig.spool.enqueue("statistics", "lost-answer", statisticsBatch("x"));
  parent.failNext(1, { drop: true });

  const first = await rig.forwarder.runOnce();
  assert.deepEqual(first, { sent: 0, failed: 1 }, "a broken answer is not taken as success");
  assert.equal(rig.spool.totals().statistics.entries, 1);
  await drain(rig);

  assert.deepEqual(parent.statisticsKeys(), ["lost-answer", "lost-answer"]);
  assert.equal(parent.stores.get("lost-answer"), 1);
  assert.equal(rig.spool.totals().statistics.entries, 0);
});

Deno.test("a parent that is down loses nothing: the spool drains when it listens again on its port", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  await parent.stop();
  for (const id of ["d1", "d2"]) rig.spool.enqueue("statistics", id, statisticsBatch(id));

  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 1 });
  const entry = rig.spool.due("statistics", Number.MAX_SAFE_INTEGER, 10)[0];
  assert.equal(entry.attempts, 1);
  assert.match(
    entry.lastError ?? "",
    /Cannot reach upstream "http:\/\/127\.0\.0\.1:\d+\/v1\/stats"/,
  );
  assert.ok(rig.log.lines.some((l) => l.includes("WARN") && l.includes("will retry")));

  parent.start();
  await drain(rig);
  assert.deepEqual([...parent.stores.keys()].sort(), ["d1", "d2"]);
  assert.ok([...parent.stores.values()].every((n) => n === 1));
});

Deno.test("a 429 with Retry-After holds every send back until the time it names", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url, intervalSeconds: 1 });
  rig.spool.enqueue("statistics", "r1", statisticsBatch("r1"));
  rig.spool.enqueue("statistics", "r2", statisticsBatch("r2"));
  parent.failNext(1, { status: 429, retryAfter: "120" });

  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 1 });
  advance(rig, 60_000);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 }, "still paused");
  assert.equal(parent.arrivals.length, 1, "the other batch waited too");
  advance(rig, 61_000);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 2, failed: 0 });
});

Deno.test("a 422 refusal keeps the entry with its error and retries it after 10 minutes, never dropping it", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  rig.spool.enqueue("statistics", "refused", statisticsBatch("q"));
  rig.spool.enqueue("statistics", "fine", statisticsBatch("f"));
  parent.failNext(1, { status: 422 });

  assert.deepEqual(
    await rig.forwarder.runOnce(),
    { sent: 1, failed: 1 },
    "the next batch still went",
  );
  const [kept] = rig.spool.due("statistics", Number.MAX_SAFE_INTEGER, 10);
  assert.equal(kept.batchId, "refused");
  assert.match(
    kept.lastError ?? "",
    /Upstream "http:\/\/127\.0\.0\.1:\d+\/v1\/stats" answered 422/,
  );
  assert.match(kept.lastError ?? "", /fake_failure/);
  assert.equal(kept.nextAttemptAt, rig.clock.now() + MAX_BACKOFF_MS);
  assert.ok(rig.log.lines.some((l) => l.includes("ERROR") && l.includes("kept in the spool")));

  advance(rig, MAX_BACKOFF_MS - 1000);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 });
  advance(rig, 1000);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 1, failed: 0 });
  assert.equal(parent.stores.get("refused"), 1);
});

Deno.test("a 401 or 403 refuses the node itself: nothing else is sent until the entry's next attempt", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  rig.spool.enqueue("statistics", "first", statisticsBatch("1"));
  rig.spool.enqueue("statistics", "second", statisticsBatch("2"));
  parent.failNext(1, { status: 401 });

  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 1 });
  advance(rig, MAX_BACKOFF_MS / 2);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 });
  assert.equal(parent.arrivals.length, 1, "the parent was not asked again meanwhile");
  advance(rig, MAX_BACKOFF_MS / 2);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 2, failed: 0 });
  assert.deepEqual([...parent.stores.keys()], ["first", "second"]);
});

Deno.test("retries of a failing batch wait longer each time, up to 10 minutes", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url, intervalSeconds: 10 });
  rig.spool.enqueue("statistics", "slow", statisticsBatch("s"));
  parent.failNext(12, { status: 500 });
  const waits: number[] = [];
  for (let i = 0; i < 12; i++) {
    await rig.forwarder.runOnce();
    const [entry] = rig.spool.due("statistics", Number.MAX_SAFE_INTEGER, 1);
    waits.push(entry.nextAttemptAt - rig.clock.now());
    rig.clock.set(entry.nextAttemptAt);
  }
  // random() is 0.5 in the rig: three quarters of 10 s, 20 s, 40 s, ... capped at 10 min.
  assert.deepEqual(waits.slice(0, 4), [7500, 15_000, 30_000, 60_000]);
  assert.deepEqual(waits.slice(-3), [450_000, 450_000, 450_000]);
  assert.ok(waits.every((w) => w <= MAX_BACKOFF_MS));
});

Deno.test("pksn upstream status shows what waits and why; pksn upstream retry lifts the pause a refusal set", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  rig.spool.enqueue("statistics", "held-1", statisticsBatch("h"));
  parent.failNext(1, { status: 401 });
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 1 });

  const status = await runCli(["upstream", "status", "--json", "--data", rig.dir]);
  assert.equal(status.code, 0, status.stderr);
  const shown = JSON.parse(status.stdout);
  assert.equal(shown.parent, null, "the CLI run has no configuration naming the parent");
  assert.equal(shown.statistics.entries, 1);
  assert.equal(shown.statistics.mostAttempts, 1);
  assert.match(shown.statistics.lastError, /401/);
  assert.equal(shown.sample.entries, 0);

  advance(rig, 60_000);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 }, "still paused");
  const retried = await runCli(["upstream", "retry", "--data", rig.dir]);
  assert.equal(retried.code, 0, retried.stderr);
  assert.match(
    retried.stdout,
    /^1 batch due now; a running node sends it at its next forwarding tick/,
  );
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 1, failed: 0 });
  assert.equal(parent.stores.get("held-1"), 1);
  const empty = await runCli(["upstream", "retry", "--data", rig.dir]);
  assert.match(empty.stdout, /^Nothing waits for the parent/);
});

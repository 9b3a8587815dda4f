/** The forwarder across stops and restarts: the spool is durable, stop() is clean. */
import assert from "node:assert/strict";
import { advance, openRig, startFakeParent, statisticsBatch } from "./_forward.ts";

Deno.test("a forwarder stopped part-way and a new one over the reopened database sends the rest, each once", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  const ids = ["r1", "r2", "r3", "r4", "r5"];
  for (const id of ids) rig.spool.enqueue("statistics", id, statisticsBatch(id));
  // Two go through, the third meets a failing parent and the node is restarted.
  parent.plan.push({ delayMs: 0 }, { delayMs: 0 }, { status: 503 });
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 2, failed: 1 });

  await rig.restart();
  assert.equal(rig.spool.totals().statistics.entries, 3, "the rest survived the restart");
  const [retried] = rig.spool.due("statistics", Number.MAX_SAFE_INTEGER, 1);
  assert.equal(retried.batchId, "r3");
  assert.equal(retried.attempts, 1, "the attempt count survived too");
  advance(rig, 60_000);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 3, failed: 0 });

  assert.deepEqual([...parent.stores.keys()].sort(), ids);
  assert.ok([...parent.stores.values()].every((n) => n === 1));
  assert.equal(parent.statisticsKeys().filter((k) => k === "r3").length, 2);
});

Deno.test("stop() waits for the send in flight, and nothing is sent after it", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  rig.spool.enqueue("statistics", "in-flight", statisticsBatch("a"));
  rig.spool.enqueue("statistics", "after-stop", statisticsBatch("b"));
  parent.failNext(1, { delayMs: 300 });

  const pass = rig.forwarder.runOnce();
  while (parent.arrivals.length === 0) await new Promise((r) => setTimeout(r, 5));
  await rig.forwarder.stop();

  assert.deepEqual(await pass, { sent: 1, failed: 0 });
  assert.deepEqual([...parent.stores.keys()], ["in-flight"]);
  const left = rig.spool.due("statistics", Number.MAX_SAFE_INTEGER, 10).map((e) => e.batchId);
  assert.deepEqual(left, ["after-stop"], "the delivered batch is gone, the other waits");
});

Deno.test("once started, the forwarder runs a pass every interval until it is stopped", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url, intervalSeconds: 10 });
  rig.forwarder.start();
  assert.deepEqual([...rig.timers.pending.values()].map((t) => t.ms), [10_000]);

  rig.spool.enqueue("statistics", "t1", statisticsBatch("t1"));
  rig.timers.fire();
  await rig.forwarder.runOnce();
  assert.deepEqual([...parent.stores.keys()], ["t1"]);
  while (rig.timers.pending.size === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(rig.timers.pending.size, 1, "the next pass is scheduled");

  await rig.forwarder.stop();
  assert.equal(rig.timers.pending.size, 0, "stop() clears the timer");
  rig.spool.enqueue("statistics", "t2", statisticsBatch("t2"));
  rig.timers.fire();
  assert.equal(rig.spool.totals().statistics.entries, 1);
  assert.deepEqual([...parent.stores.keys()], ["t1"]);
});

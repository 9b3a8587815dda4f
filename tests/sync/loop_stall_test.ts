/**
 * A sync run applies each file on a worker thread, so a serving node's event
 * loop is not held by the apply's write transaction, and notes the longest
 * event-loop stall of each apply in its log line, measured in the applying
 * process itself (the bench reports it for a serving node). No timing is
 * asserted except lower bounds: a busy machine makes stalls longer, never
 * shorter.
 */
import assert from "node:assert/strict";
import { LoopStallMeter } from "../../src/mirror/loop_stall.ts";
import { fileRecords, md5Of, startFollowing, syncOf } from "./_feed.ts";

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* holds the event loop, as a synchronous chunk would */ }
}

Deno.test("the stall meter reports a 120 ms synchronous block as at least 100 ms", async () => {
  const meter = new LoopStallMeter();
  meter.start();
  await new Promise((resolve) => setTimeout(resolve, 30));
  blockFor(120);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(meter.stop() >= 100);
});

Deno.test("the stall meter counts a block that ends just before it is stopped", () => {
  const meter = new LoopStallMeter();
  meter.start();
  blockFor(120);
  assert.ok(meter.stop() >= 100);
});

Deno.test("an applied version's log line carries the longest event-loop stall of its apply", async () => {
  await using f = await startFollowing(fileRecords(2_000));
  await syncOf(f.child).runOnce();
  const line = f.child.logLines.find((l) => l.includes("Mirror is at version 1 "));
  assert.match(line ?? "", /stallMillis=\d+/);
});

Deno.test("a serving node applies a snapshot and a delta on a worker thread and answers from the new version", async () => {
  await using f = await startFollowing(fileRecords(20_000));
  const { origin, child } = f;
  await syncOf(child).runOnce();
  await origin.publishRecords(fileRecords(20_000, "suspicious"));
  await syncOf(child).runOnce();
  const applied = child.logLines.filter((l) => l.includes("Mirror is at version"));
  assert.equal(applied.length, 2, applied.join("\n"));
  for (const line of applied) assert.match(line, /thread=worker/);
  const answer = await (await fetch(`${child.url}/v1/files/${md5Of(7)}`)).json();
  assert.equal(answer.verdict, "suspicious");
});

/**
 * The node's participation mode decides what the parent receives: the forwarder
 * asks `NodeParticipation.allows` before every send.
 */
import assert from "node:assert/strict";
import type { NodeMode } from "../../src/licences/mod.ts";
import {
  advance,
  openRig,
  type Rig,
  startFakeParent,
  statisticsBatch,
  streamOf,
} from "./_forward.ts";

const SAMPLE = new TextEncoder().encode(
  "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE",
);

/** Queues one statistics batch and one sample. */
async function queueOneOfEach(rig: Rig): Promise<string> {
  rig.spool.enqueue("statistics", "mode-batch", statisticsBatch("m"));
  const { sha256 } = await rig.samples.receive(streamOf(SAMPLE), {
    licenceId: 1,
    sha256: null,
    meta: { extension: "com", detection: "EICAR-Test-File" },
  });
  return sha256;
}

const RECEIVES: readonly [NodeMode, string[]][] = [
  ["with-statistics", ["/v1/stats", "/v1/samples"]],
  ["without-statistics", []],
  ["save-statistics-to-file", []],
  ["do-not-participate", []],
];

for (const [mode, paths] of RECEIVES) {
  Deno.test(`in node mode ${mode} the parent receives ${paths.join(" and ") || "nothing"}`, async () => {
    await using parent = startFakeParent();
    await using rig = await openRig({ upstream: parent.url, mode });
    const sha256 = await queueOneOfEach(rig);

    await rig.forwarder.runOnce();
    advance(rig, 3_600_000);
    await rig.forwarder.runOnce();

    assert.deepEqual(parent.arrivals.map((a) => a.path), paths);
    const waiting = rig.spool.totals();
    if (paths.length) {
      assert.deepEqual(parent.batches.get("mode-batch"), statisticsBatch("m"));
      const sample = parent.samples.get(sha256);
      assert.deepEqual(sample?.body, SAMPLE);
      assert.equal(sample?.headers.get("x-sample-name"), "sample.com");
      assert.equal(sample?.headers.get("x-detection"), "EICAR-Test-File");
      assert.deepEqual([waiting.statistics.entries, waiting.sample.entries], [0, 0]);
    } else {
      assert.deepEqual([waiting.statistics.entries, waiting.sample.entries], [1, 1], "kept");
    }
  });
}

Deno.test("in node mode without-statistics look-ups may go upstream, but statistics and samples do not", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url, mode: "without-statistics" });
  await queueOneOfEach(rig);
  assert.equal(rig.participation.allows("lookups"), true);
  assert.equal(rig.participation.allows("statistics"), false);
  assert.equal(rig.participation.allows("samples"), false);
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 });
  assert.deepEqual(parent.arrivals, []);
});

Deno.test("what waited while the node did not participate goes once the operator turns statistics on", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url, mode: "save-statistics-to-file" });
  await queueOneOfEach(rig);
  await rig.forwarder.runOnce();
  assert.equal(parent.arrivals.length, 0);

  rig.participation.set("with-statistics", { actor: "test" });
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 2, failed: 0 });
  assert.deepEqual(parent.arrivals.map((a) => a.path), ["/v1/stats", "/v1/samples"]);
});

Deno.test("a mode change in the middle of a pass stops the sends that follow it", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  for (const id of ["m1", "m2", "m3"]) rig.spool.enqueue("statistics", id, statisticsBatch(id));
  parent.failNext(1, { delayMs: 200 });
  const pass = rig.forwarder.runOnce();
  while (parent.arrivals.length === 0) await new Promise((r) => setTimeout(r, 5));
  rig.participation.set("do-not-participate", { actor: "test" });

  assert.deepEqual(await pass, { sent: 1, failed: 0 });
  assert.deepEqual([...parent.stores.keys()], ["m1"]);
});

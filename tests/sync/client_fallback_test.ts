/**
 * When a failed delta path gives way to the full snapshot, and when it does
 * not: a snapshot older than the mirror is taken only to repair a mirror whose
 * state does not fit the feed, and only when the manifest leads from it back
 * to the current version. A file whose header disagrees with the manifest is
 * refused, naming what differs.
 */
import assert from "node:assert/strict";
import { fileRecords, md5Of, syncOf } from "./_feed.ts";
import {
  assertServes,
  childAtVersion1,
  failsWith,
  logLine,
  readCurrent,
  recraftDelta,
  recraftManifest,
} from "./_faults.ts";

const SNAPSHOT = /^snapshots\//;

Deno.test("a wrong_base never takes the mirror back to an older snapshot it cannot leave", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  // Version 2 by delta 1→2; the snapshot stays at version 1.
  await origin.publishRecords(fileRecords(200, "phishing"));
  assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
  // Version 3: delta 2→3.
  await origin.publishRecords(fileRecords(200, "adware"));
  // Delta 2→3 claims another base, and the manifest no longer lists delta 1→2.
  await recraftDelta(origin.tree, origin.key, (h) => ({ ...h, baseChecksum: "0123456789abcdef" }));
  await recraftManifest(origin.tree, origin.key, (m) => ({
    ...m,
    deltas: m.deltas.filter((d) => d.from !== 1),
  }));
  const snapshots = server.count(SNAPSHOT);

  const err = await failsWith(syncOf(child).runOnce(), "wrong_base");
  assert.match(
    err.message,
    /the feed's snapshot \(version 1\) is not newer than this mirror and the manifest lacks deltas from it to version 3, so the mirror stays at 2/,
  );
  await assertServes(child, 2, md5Of(3), "phishing");
  assert.equal(server.count(SNAPSHOT), snapshots, "the older snapshot is not even fetched");
});

Deno.test("a repair from an older snapshot ends no older than the mirror was", async () => {
  await using f = await childAtVersion1();
  const { origin, child } = f;
  await origin.publishRecords(fileRecords(200, "phishing"));
  assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
  await origin.publishRecords(fileRecords(200, "adware"));
  // The chain from snapshot 1 is complete, but its last delta is the bad one.
  await recraftDelta(origin.tree, origin.key, (h) => ({ ...h, baseChecksum: "0123456789abcdef" }));
  assert.equal((await readCurrent(origin.tree)).manifest.snapshot.version, 1);

  await failsWith(syncOf(child).runOnce(), "wrong_base");
  logLine(child, /WARN/, /Taking the mirror back from version 2 to the snapshot's version 1/);
  logLine(child, /Falling back to the full snapshot/, /reason=wrong_base/);
  await assertServes(child, 2, md5Of(3), "phishing");
});

Deno.test("a delta whose header disagrees with the manifest names the field and both values", async () => {
  await using f = await childAtVersion1();
  const { origin, child } = f;
  await origin.publishRecords(fileRecords(200, "phishing"));
  // A publisher bug: the delta's header (and nothing else) says it leads to version 9.
  await recraftDelta(origin.tree, origin.key, (h) => ({ ...h, version: 9 }));

  const err = await failsWith(syncOf(child).runOnce(), "invalid_feed");
  assert.match(err.message, /^"deltas\/1-2\.\w+\.bin" leads to version 9; the manifest says 2$/);
  await assertServes(child, 1, md5Of(3), "malicious");
});

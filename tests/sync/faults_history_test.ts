/**
 * Faults in a feed's history between a publisher and a child: a replayed or
 * expired timestamp, deltas built on another history, missing or disagreeing
 * with their checksum, and a root rotation that retires a key. In each the
 * child must refuse what it cannot trust, keep serving the version it has (or
 * repair from the snapshot), say so in one log line and count it in /metrics.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { computeMirrorChecksum } from "../../src/feed/apply.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import { fakeClock } from "../_helpers.ts";
import {
  FeedServer,
  fileRecords,
  md5Of,
  startChild,
  syncOf,
  T0,
  TestOrigin,
  verdictOf,
} from "./_feed.ts";
import {
  answerFor,
  assertMetrics,
  assertServes,
  childAtVersion1,
  failsWith,
  logLine,
  metricsOf,
  nodeSyncReport,
  notFound,
  readCurrent,
  recraftDelta,
  republishHistory,
  writeTimestamp,
} from "./_faults.ts";
import { newKey } from "./_publisher.ts";

const SNAPSHOT = /^snapshots\//;
const DELTA = /^deltas\//;

Deno.test("a replayed older timestamp.json is refused with rollback", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  const version1 = await Deno.readTextFile(join(origin.tree, "timestamp.json"));
  await origin.publishRecords(fileRecords(200, "phishing"));
  assert.equal((await syncOf(child).runOnce()).to, 2);

  server.tamper = answerFor("timestamp.json", () => new Response(version1));
  const err = await failsWith(syncOf(child).runOnce(), "rollback");
  assert.match(err.message, /offers version 1, older than version 2/);
  await assertServes(child, 2, md5Of(3), "phishing");
  logLine(child, /Sync failed \(rollback\); still serving mirror version 2/, /replayed/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="rollback"} 1');
});

Deno.test("past its signed expiry the mirror freezes: stale answers, or unknown by policy", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(200), { expiresSeconds: 60 });
  await using server = new FeedServer(origin.tree);
  const clock = fakeClock(T0);
  await using child = await startChild(server.url, origin.rootPath, {}, { clock });
  const strictClock = fakeClock(T0);
  await using strict = await startChild(server.url, origin.rootPath, { frozen: "unknown" }, {
    clock: strictClock,
  });
  await syncOf(child).runOnce();
  await syncOf(strict).runOnce();
  assert.deepEqual(await verdictOf(child, md5Of(3)), await verdictOf(strict, md5Of(3)));
  assert.equal((await verdictOf(child, md5Of(3))).stale, undefined);

  clock.set(T0 + 120_000);
  strictClock.set(T0 + 120_000);
  syncOf(child).refreshMode();
  syncOf(strict).refreshMode();
  assert.equal((await nodeSyncReport(child)).state, "frozen");
  await assertMetrics(child, 'pksn_mirror_state{state="frozen"} 1', "pksn_mirror_version 1");
  const stale = await verdictOf(child, md5Of(3));
  assert.equal(stale.verdict, "malicious");
  assert.equal(stale.stale, true);
  logLine(child, /WARN/, /The mirror is frozen: version 1 expired at/, /answer with "stale": true/);
  const unknown = await verdictOf(strict, md5Of(3));
  assert.equal(unknown.verdict, "unknown");
  assert.equal(unknown.stale, true);
  logLine(strict, /The mirror is frozen: version 1 expired at/, /answer unknown/);

  // The feed still offers only the expired pointer.
  const err = await failsWith(syncOf(child).runOnce(), "expired");
  assert.match(err.message, /"timestamp\.json" \(version 1\) expired at/);
  logLine(child, /Sync failed \(expired\); still serving mirror version 1/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="expired"} 1');
  assert.equal((await verdictOf(child, md5Of(3))).stale, true);

  // A fresh signature thaws it.
  await origin.publish({ now: T0 + 120_000, expiresSeconds: 3600 });
  assert.equal((await syncOf(child).runOnce()).to, 2);
  const thawed = await verdictOf(child, md5Of(3));
  assert.equal(thawed.verdict, "malicious");
  assert.ok(!("stale" in thawed), JSON.stringify(thawed));
  assert.equal((await nodeSyncReport(child)).state, "fresh");
  await assertMetrics(child, 'pksn_mirror_state{state="fresh"} 1');
});

Deno.test("a delta built on another history is refused with wrong_base; the snapshot follows", async () => {
  await using f = await childAtVersion1(fileRecords(200));
  const { origin, child } = f;
  // The publisher lost its state and published versions 1 and 2 again, differently.
  await republishHistory(origin, [
    { records: fileRecords(200, "adware", 1000) },
    { records: fileRecords(200, "phishing", 1000), snapshotEvery: 1 },
  ]);

  const result = await syncOf(child).runOnce();
  assert.equal(result.to, 2);
  assert.deepEqual(result.via, ["snapshot"]);
  assert.match(
    result.fellBack ?? "",
    /^wrong_base: Delta 1→2 \(base checksum \w+\) does not apply to mirror version 1/,
  );
  await assertServes(child, 2, md5Of(1003), "phishing");
  assert.equal((await verdictOf(child, md5Of(3))).verdict, "unknown");
  const db = child.serving.node.db;
  assert.equal(computeMirrorChecksum(db).checksum, computeMirrorChecksum(origin.source).checksum);
  logLine(child, /WARN/, /Falling back to the full snapshot: Delta 1→2/, /reason=wrong_base/);
  await assertMetrics(
    child,
    'pksn_sync_applied_total{kind="snapshot"} 2',
    'pksn_sync_runs_total{result="updated"} 2',
    'pksn_sync_fallbacks_total{reason="wrong_base"} 1',
  );
});

Deno.test("a delta missing from the server (404) gives way to the full snapshot", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  await origin.publishRecords(fileRecords(200, "phishing"), { snapshotEvery: 1 });
  server.tamper = notFound(DELTA);

  const result = await syncOf(child).runOnce();
  assert.deepEqual(result.via, ["snapshot"]);
  assert.match(result.fellBack ?? "", /^missing_file: "deltas\/1-2\.\w+\.bin" is not on the feed/);
  assert.equal(server.count(DELTA), 1);
  await assertServes(child, 2, md5Of(3), "phishing");
  logLine(child, /WARN/, /Falling back to the full snapshot/, /reason=missing_file/);
  await assertMetrics(
    child,
    'pksn_sync_applied_total{kind="snapshot"} 2',
    'pksn_sync_runs_total{result="updated"} 2',
    'pksn_sync_fallbacks_total{reason="missing_file"} 1',
  );
});

// A snapshot older than the mirror cannot replace a missing delta: taking it would
// move the mirror back and then need the same delta again.
Deno.test({
  name: "a missing delta never takes the mirror back to an older snapshot",
  fn: async () => {
    await using f = await childAtVersion1();
    const { origin, server, child } = f;
    // Version 2: delta 1→2, the snapshot stays at version 1.
    await origin.publishRecords(fileRecords(200, "phishing"));
    assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
    // Version 3: deltas 1→2 and 2→3, snapshot 1.
    await origin.publishRecords(fileRecords(200, "adware"));
    server.tamper = notFound(DELTA);

    await failsWith(syncOf(child).runOnce(), "missing_delta");
    await assertServes(child, 2, md5Of(3), "phishing");
    assert.equal(server.count(SNAPSHOT), 1, "a snapshot older than the mirror is no help");
  },
});

Deno.test("a delta whose result disagrees with its checksum rolls back; the snapshot follows", async () => {
  await using f = await childAtVersion1(fileRecords(200));
  const { origin, server, child } = f;
  await origin.publishRecords([...fileRecords(200), ...fileRecords(1, "phishing", 5000)], {
    snapshotEvery: 1,
  });
  // A publisher bug: the delta (and the manifest's entry for it) claim another result.
  await recraftDelta(origin.tree, origin.key, (h) => ({ ...h, checksum: "0123456789abcdef" }));
  const db = child.serving.node.db;

  // Without the snapshot, the rolled-back delta leaves the mirror exactly at version 1.
  server.tamper = notFound(SNAPSHOT);
  await failsWith(syncOf(child).runOnce(), "missing_file");
  await assertServes(child, 1, md5Of(5000), "unknown");
  assert.equal(computeMirrorChecksum(db).checksum, readMirrorState(db).checksum);
  logLine(
    child,
    /WARN/,
    /Falling back to the full snapshot: Delta 1→2 would leave the mirror with checksum \w+; the feed says 0123456789abcdef\. Nothing was applied/,
    /reason=checksum_mismatch/,
  );
  await assertMetrics(child, 'pksn_sync_failures_total{reason="missing_file"} 1');

  server.tamper = undefined;
  const result = await syncOf(child).runOnce();
  assert.deepEqual(result.via, ["snapshot"]);
  assert.match(result.fellBack ?? "", /^checksum_mismatch: /);
  await assertServes(child, 2, md5Of(5000), "phishing");
  assert.equal(computeMirrorChecksum(db).checksum, readMirrorState(db).checksum);
  await assertMetrics(
    child,
    'pksn_sync_applied_total{kind="snapshot"} 2',
    // Both runs gave the delta up; the first then found no snapshot.
    'pksn_sync_fallbacks_total{reason="checksum_mismatch"} 2',
  );
  assert.doesNotMatch(await metricsOf(child), /pksn_sync_applied_total\{kind="delta"\}/);
});

Deno.test("a child follows a root rotation and then refuses a timestamp signed by the retired key", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(200));
  await using server = new FeedServer(origin.tree);
  // The child ships root version 1, which root.json stops being after the rotation.
  await using child = await startChild(server.url, join(origin.tree, "root.1.json"));
  await syncOf(child).runOnce();

  const key = await newKey();
  await origin.rotateRoot(origin.key, key);
  await origin.publishRecords(fileRecords(200, "phishing"), { key });

  const result = await syncOf(child).runOnce();
  assert.equal(result.to, 2);
  assert.deepEqual(result.via, ["delta"]);
  logLine(child, /Root keys rotated to version 2/);
  const stored = JSON.parse(await Deno.readTextFile(join(child.dataDir, "sync", "root.json")));
  assert.equal(stored.signed.version, 2);
  await assertServes(child, 2, md5Of(3), "phishing");

  // Version 3, but its timestamp signed with the key root version 2 retired.
  await origin.publishRecords(fileRecords(200, "adware"), { key });
  await writeTimestamp(origin.tree, (await readCurrent(origin.tree)).timestamp, origin.key);
  const err = await failsWith(syncOf(child).runOnce(), "bad_signature");
  assert.match(err.message, /0 valid timestamp signature\(s\) of root version 2; 1 needed/);
  await assertServes(child, 2, md5Of(3), "phishing");
  logLine(child, /Sync failed \(bad_signature\); still serving mirror version 2/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="bad_signature"} 1');
});

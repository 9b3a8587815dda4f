/**
 * A real origin, a plain static file server and child nodes on 127.0.0.1: the
 * first full sync, delta syncs and a three-tier chain origin → core → edge.
 */
import assert from "node:assert/strict";
import { computeMirrorChecksum } from "../../src/feed/apply.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import { fileRecords, md5Of, startFollowing, startThreeTiers, syncOf, verdictOf } from "./_feed.ts";

Deno.test("a child's first sync applies the full snapshot and answers from it", async () => {
  await using f = await startFollowing(fileRecords(500));
  const { child } = f;
  assert.equal((await verdictOf(child, md5Of(7))).verdict, "unknown");

  const result = await syncOf(child).runOnce();
  assert.equal(result.outcome, "updated");
  assert.deepEqual(result.via, ["snapshot"]);
  assert.equal((await verdictOf(child, md5Of(7))).verdict, "malicious");
  const state = readMirrorState(child.serving.node.db);
  assert.equal(state.version, 1);
  assert.equal(computeMirrorChecksum(child.serving.node.db).checksum, state.checksum);
  assert.equal((await syncOf(child).runOnce()).outcome, "current");
});

Deno.test("later versions arrive as deltas: adds, updates and removes", async () => {
  await using f = await startFollowing(fileRecords(300));
  const { origin, server, child } = f;
  await syncOf(child).runOnce();

  // v2: 0..99 become suspicious, 100..199 go, 300..349 are new.
  await origin.publishRecords([
    ...fileRecords(100, "suspicious"),
    ...fileRecords(100, "malicious", 200),
    ...fileRecords(50, "adware", 300),
  ]);
  await origin.publishRecords([
    ...fileRecords(100, "suspicious"),
    ...fileRecords(150, "adware", 200),
  ]);
  const snapshotsBefore = server.count(/^snapshots\//);
  const result = await syncOf(child).runOnce();
  assert.deepEqual(result.via, ["delta", "delta"]);
  assert.equal(server.count(/^snapshots\//), snapshotsBefore, "no snapshot fetched");
  assert.equal((await verdictOf(child, md5Of(5))).verdict, "suspicious");
  assert.equal((await verdictOf(child, md5Of(150))).verdict, "unknown");
  assert.equal((await verdictOf(child, md5Of(250))).verdict, "adware");
  const db = child.serving.node.db;
  assert.equal(readMirrorState(db).version, 3);
  assert.equal(computeMirrorChecksum(db).checksum, computeMirrorChecksum(origin.source).checksum);
});

Deno.test("three tiers: origin → core → edge, the core never re-signs", async () => {
  await using tiers = await startThreeTiers(fileRecords(200));
  const { origin, core, edge } = tiers;
  assert.equal((await syncOf(edge).runOnce()).to, 1);
  assert.equal((await verdictOf(edge, md5Of(3))).verdict, "malicious");

  await origin.publishRecords(fileRecords(200, "phishing"));
  await syncOf(core).runOnce();
  const result = await syncOf(edge).runOnce();
  assert.deepEqual(result.via, ["delta"]);
  assert.equal((await verdictOf(edge, md5Of(3))).verdict, "phishing");
  const served = await (await fetch(`${core.url}/feed/timestamp.json`)).text();
  assert.equal(
    served,
    await Deno.readTextFile(`${origin.tree}/timestamp.json`),
    "served as signed",
  );
});

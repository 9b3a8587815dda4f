/**
 * The publisher: versions, deltas and snapshots that bring a node to the
 * source's state, retention, keys, and recovering from a state database that
 * does not match the tree.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { computeMirrorChecksum } from "../../src/feed/apply.ts";
import { TIMESTAMP_FILE } from "../../src/feed/feed_files.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import { initRoot, rotateRoot } from "../../src/feed/feed_root.ts";
import type { Manifest } from "../../src/feed/metadata.ts";
import { readCurrent, readFeedRoot } from "../../src/feed/publisher.ts";
import { SyncError } from "../../src/feed/sync_error.ts";
import { tempDir } from "../_helpers.ts";
import { copyTree } from "./_feed.ts";
import {
  assertNothingPublished,
  createFeed,
  DAY,
  domain,
  HOUR,
  isSyncError,
  mirrorRows,
  newKey,
  openDb,
  START,
  syncFromTree,
  type TestFeed,
} from "./_publisher.ts";

const FIRST = [domain("a.example"), domain("b.example"), domain("c.example")];
// From FIRST: a goes, b changes verdict, d is new.
const SECOND = [domain("b.example", "phishing"), domain("c.example"), domain("d.example")];

/** Replaces the feed's state database with a copy taken earlier. */
function restoreState(feed: TestFeed, backup: string): void {
  feed.state.close();
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(feed.statePath + suffix);
    } catch { /* not there */ }
  }
  Deno.copyFileSync(backup, feed.statePath);
  feed.state = openDb(feed.statePath);
}

/** Asserts that a new node brought to `manifest` from the feed's tree holds the source's rows. */
async function assertNodeFollows(feed: TestFeed, manifest: Manifest): Promise<void> {
  await using nodeDir = await tempDir();
  using node = openDb(join(nodeDir.path, "node.db"));
  await syncFromTree(node, feed.out, manifest);
  assert.deepEqual(mirrorRows(node), mirrorRows(feed.source));
}

async function deltaFiles(out: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(join(out, "deltas"))) names.push(entry.name);
  return names.map((n) => n.split(".")[0]).sort();
}

Deno.test("the first build publishes a snapshot of version 1 under a signed timestamp", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  const report = await feed.publish(FIRST, START);
  assert.deepEqual(
    [report.version, report.records, report.added, report.snapshot],
    [1, 3, 3, true],
  );
  // readCurrent checks the timestamp's signature against the root.
  const current = await readCurrent(feed.out, await readFeedRoot(feed.out));
  assert.equal(current?.timestamp.version, 1);
  assert.equal(current?.timestamp.expires, new Date(START + 48 * HOUR).toISOString());
  assert.equal(current?.manifest.snapshot.version, 1);
  assert.deepEqual(current?.manifest.deltas, []);

  await assertNodeFollows(feed, current!.manifest);
});

Deno.test("a second build publishes a delta of adds, updates and removes that brings a node to the source", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await using nodeDir = await tempDir();
  using node = openDb(join(nodeDir.path, "node.db"));
  await feed.publish(FIRST, START);
  await syncFromTree(node, feed.out, await feed.manifest());

  const report = await feed.publish(SECOND, START + HOUR);
  assert.deepEqual(
    [report.version, report.added, report.updated, report.removed, report.snapshot],
    [2, 1, 1, 1, false],
  );
  const manifest = await feed.manifest();
  assert.deepEqual(manifest.deltas.map((d) => [d.from, d.to, d.records]), [[1, 2, 3]]);
  await syncFromTree(node, feed.out, manifest);
  assert.deepEqual(mirrorRows(node), mirrorRows(feed.source));
  assert.equal(computeMirrorChecksum(node).checksum, manifest.checksum);
  assert.equal(computeMirrorChecksum(feed.source).checksum, manifest.checksum);
});

Deno.test("a full snapshot comes every K versions", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  const snapshots = [];
  for (let v = 1; v <= 7; v++) {
    const report = await feed.publish([domain(`v${v}.example`)], START + v * HOUR, {
      snapshotEvery: 3,
    });
    snapshots.push([report.snapshot, (await feed.manifest()).snapshot.version]);
  }
  assert.deepEqual(snapshots, [
    [true, 1],
    [false, 1],
    [false, 1],
    [true, 4],
    [false, 4],
    [false, 4],
    [true, 7],
  ]);
});

Deno.test("deltas older than the retention are pruned, but those after the snapshot stay however old", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  // One version a day, a snapshot every 3, deltas kept for one hour.
  for (let v = 1; v <= 6; v++) {
    await feed.publish([domain(`v${v}.example`)], START + v * DAY, {
      snapshotEvery: 3,
      deltaRetentionSeconds: 3600,
    });
  }
  const manifest = await feed.manifest();
  assert.equal(manifest.snapshot.version, 4);
  // 4→5 is a day old, past the retention, but a node at the snapshot needs it.
  assert.deepEqual(manifest.deltas.map((d) => `${d.from}-${d.to}`), ["4-5", "5-6"]);
  assert.deepEqual(await deltaFiles(feed.out), ["4-5", "5-6"]);

  await assertNodeFollows(feed, manifest);
});

Deno.test("a build without changes still publishes the next version, with an empty delta and a later expiry", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  const report = await feed.build(START + 12 * HOUR);
  assert.deepEqual(
    [report.version, report.records, report.added, report.updated, report.removed],
    [2, 3, 0, 0, 0],
  );
  const current = await readCurrent(feed.out, await readFeedRoot(feed.out));
  assert.equal(current?.timestamp.expires, new Date(START + 60 * HOUR).toISOString());
  assert.deepEqual(current?.manifest.deltas.map((d) => d.records), [0]);
});

Deno.test("a key outside the root's timestamp role is refused and nothing is published", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  const outsider = await newKey();
  await assertNothingPublished(
    feed,
    () => feed.build(START + HOUR, { timestampKeys: [outsider] }),
    "wrong_key",
  );
});

Deno.test("after a rotation that replaces the timestamp key, the next build signs with the new key", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  const newTimestampKey = await newKey();
  await rotateRoot(feed.out, {
    oldSigners: [feed.rootKey],
    newSigners: [feed.rootKey],
    rootThreshold: 1,
    timestampRole: { keys: [newTimestampKey], threshold: 1 },
    expires: START + 365 * DAY,
  });
  await assert.rejects(feed.build(START + HOUR), isSyncError("wrong_key"));
  const report = await feed.build(START + HOUR, { timestampKeys: [newTimestampKey] });
  assert.equal(report.version, 2);
  const current = await readCurrent(feed.out, await readFeedRoot(feed.out));
  assert.equal(current?.timestamp.version, 2);
});
Deno.test("a root that nodes would refuse, with more than 16 timestamp keys, is never written", async () => {
  await using dir = await tempDir();
  const rootKey = await newKey();
  const keys = await Promise.all(Array.from({ length: 17 }, () => newKey()));
  await assert.rejects(
    initRoot(join(dir.path, "feed"), {
      signers: [rootKey],
      rootThreshold: 1,
      timestampRole: { keys, threshold: 1 },
      expires: START + 365 * DAY,
    }),
    (err) =>
      err instanceof SyncError && err.code === "invalid_metadata" &&
      /^Root version 1 is malformed at "roles\.timestamp\.keyids": /.test(err.message),
  );
  await assert.rejects(Deno.stat(join(dir.path, "feed", "root.json")), Deno.errors.NotFound);
});

Deno.test("a state database one version behind the tree catches up from it, and the next version applies on top", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await using nodeDir = await tempDir();
  using node = openDb(join(nodeDir.path, "node.db"));
  await feed.publish(FIRST, START);
  const backup = join(dir.path, "state-v1.db");
  feed.state.exec(`VACUUM INTO '${backup}'`);
  await feed.publish(SECOND, START + HOUR);
  await syncFromTree(node, feed.out, await feed.manifest());

  // As if the build of version 2 died after its timestamp, before the state followed.
  restoreState(feed, backup);
  assert.equal(readMirrorState(feed.state).version, 1);
  const report = await feed.publish([...SECOND, domain("e.example")], START + 2 * HOUR);
  assert.deepEqual([report.version, report.added, report.removed], [3, 1, 0]);
  assert.equal(readMirrorState(feed.state).version, 3);

  await syncFromTree(node, feed.out, await feed.manifest());
  assert.deepEqual(mirrorRows(node), mirrorRows(feed.source));
});

Deno.test("a lost state database is rebuilt from the tree's snapshot and deltas", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  await feed.publish(SECOND, START + HOUR);

  const empty = join(dir.path, "empty.db");
  openDb(empty).close();
  restoreState(feed, empty);
  const report = await feed.build(START + 2 * HOUR);
  assert.deepEqual(
    [report.version, report.added, report.updated, report.removed],
    [3, 0, 0, 0],
  );
  assert.deepEqual(mirrorRows(feed.state), mirrorRows(feed.source));
});

Deno.test("a state database ahead of the tree is refused: restore both from the same backup", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  const treeAtV1 = join(dir.path, "tree-v1");
  await copyTree(feed.out, treeAtV1);
  await feed.publish(SECOND, START + HOUR);

  await Deno.remove(feed.out, { recursive: true });
  await Deno.rename(treeAtV1, feed.out);
  await assert.rejects(
    feed.build(START + 2 * HOUR),
    (err) =>
      err instanceof SyncError && err.code === "publisher_state_ahead" &&
      /state is at version 2 but the feed's timestamp is at 1/.test(err.message) &&
      /same backup/.test(err.message),
  );
});

Deno.test("a state database with published versions is refused for a tree that has none", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  await Deno.remove(join(feed.out, TIMESTAMP_FILE));
  await assert.rejects(feed.build(START + HOUR), isSyncError("publisher_state_ahead"));
});

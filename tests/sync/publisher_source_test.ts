/**
 * Publishing from a live database: the diff pass and the snapshot pass read one
 * snapshot of the source, so a write between them cannot give the snapshot a
 * checksum its rows do not have.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { computeMirrorChecksum } from "../../src/feed/apply.ts";
import { tempDir } from "../_helpers.ts";
import {
  applyFromTree,
  assertNothingPublished,
  createFeed,
  domain,
  HOUR,
  mirrorRows,
  openDb,
  setMirror,
  START,
  syncFromTree,
} from "./_publisher.ts";

const FIRST = [domain("a.example"), domain("b.example")];
const SECOND = [domain("b.example", "phishing"), domain("c.example")];

Deno.test("a write by another connection between the diff and the snapshot pass is left for the next version", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  using writer = openDb(join(dir.path, "source.db"));
  await using nodeDir = await tempDir();
  using byDelta = openDb(join(nodeDir.path, "delta.db"));
  using bySnapshot = openDb(join(nodeDir.path, "snapshot.db"));
  await feed.publish(FIRST, START);
  await syncFromTree(byDelta, feed.out, await feed.manifest());

  await setMirror(feed.source, SECOND);
  const published = mirrorRows(feed.source);
  const report = await feed.build(START + HOUR, {
    snapshotEvery: 1,
    afterDiff: () => setMirror(writer, [...SECOND, domain("late.example")]),
  });
  assert.deepEqual([report.version, report.snapshot, report.added], [2, true, 1]);
  const manifest = await feed.manifest();
  assert.equal(manifest.snapshot.version, 2);
  // applySnapshot checks the header's checksum against the rows it writes.
  await applyFromTree(bySnapshot, feed.out, manifest.snapshot.name, "snapshot");
  assert.deepEqual(mirrorRows(bySnapshot), published);
  await syncFromTree(byDelta, feed.out, manifest);
  assert.deepEqual(mirrorRows(byDelta), published);
  assert.equal(computeMirrorChecksum(bySnapshot).checksum, manifest.checksum);

  // The write was committed, and the next version carries it.
  const next = await feed.build(START + 2 * HOUR);
  assert.deepEqual([next.version, next.added, next.updated, next.removed], [3, 1, 0, 0]);
});

Deno.test("a snapshot pass whose rows do not give the diff's checksum is refused with source_changed", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  await setMirror(feed.source, SECOND);
  await assertNothingPublished(
    feed,
    () =>
      feed.build(START + HOUR, {
        snapshotEvery: 1,
        // The publisher's own connection sees its own write inside the read transaction.
        afterDiff: () => feed.source.exec("DELETE FROM entry WHERE origin = 0"),
      }),
    "source_changed",
    /^The source database changed during the build: /,
  );
  // The publisher never writes to its source: the delete was rolled back.
  assert.equal(mirrorRows(feed.source).length, 2);
  const report = await feed.build(START + 2 * HOUR, { snapshotEvery: 1 });
  assert.deepEqual([report.version, report.snapshot], [2, true]);
});

Deno.test("a build leaves no transaction open on the source, after success or failure", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish(FIRST, START);
  assert.equal(feed.source.isTransaction, false);
  await assert.rejects(
    feed.build(START + HOUR, { afterDiff: () => Promise.reject(new Error("x")) }),
  );
  assert.equal(feed.source.isTransaction, false);
});

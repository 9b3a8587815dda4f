/**
 * The publisher's manifests stay readable: at most `maxDeltas` deltas however
 * often it builds, a snapshot early when the deltas after the last one would
 * not fit, and metadata that nodes would refuse is refused before it is written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { Manifest } from "../../src/feed/metadata.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import { tempDir } from "../_helpers.ts";
import {
  applyFromTree,
  assertNothingPublished,
  createFeed,
  domain,
  mirrorRows,
  openDb,
  setMirror,
  START,
} from "./_publisher.ts";

const MINUTE = 60_000;

/** Brings `db` to the manifest's version as a node would: deltas if they lead from it, else the snapshot. */
async function follow(db: DatabaseSync, out: string, manifest: Manifest): Promise<string> {
  let at = readMirrorState(db).version;
  const byFrom = new Map(manifest.deltas.map((d) => [d.from, d]));
  let via = "deltas";
  if (at === 0 || (at < manifest.version && !byFrom.has(at))) {
    await applyFromTree(db, out, manifest.snapshot.name, "snapshot");
    at = manifest.snapshot.version;
    via = "snapshot";
  }
  while (at < manifest.version) {
    const delta = byFrom.get(at);
    assert.ok(delta, `the manifest of version ${manifest.version} lacks the delta from ${at}`);
    await applyFromTree(db, out, delta.name, "delta");
    at = delta.to;
  }
  return via;
}

Deno.test("a build a minute with a delta cap keeps every manifest within it, and nodes still follow", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await using nodeDir = await tempDir();
  // One node syncs after every build; the other only at the end.
  using every = openDb(join(nodeDir.path, "every.db"));
  using late = openDb(join(nodeDir.path, "late.db"));
  const snapshots: number[] = [];
  const vias = new Set<string>();
  for (let v = 1; v <= 12; v++) {
    await setMirror(feed.source, [domain(`v${v}.example`), domain("same.example")]);
    if (v === 2) await follow(late, feed.out, await feed.manifest());
    const report = await feed.build(START + v * MINUTE, {
      snapshotEvery: 100,
      deltaRetentionSeconds: 7 * 86_400,
      maxDeltas: 3,
    });
    if (report.snapshot) snapshots.push(report.version);
    // feed.manifest() reads it back through the schema nodes use.
    const manifest = await feed.manifest();
    assert.ok(manifest.deltas.length <= 3, `version ${v}: ${manifest.deltas.length} deltas`);
    assert.ok(manifest.version - manifest.snapshot.version <= 3);
    vias.add(await follow(every, feed.out, manifest));
    assert.deepEqual(mirrorRows(every), mirrorRows(feed.source));
  }
  // Version 1, then whenever a fourth delta after the snapshot would be needed.
  assert.deepEqual(snapshots, [1, 5, 9]);
  assert.deepEqual([...vias], ["snapshot", "deltas"]);
  const manifest = await feed.manifest();
  assert.deepEqual(manifest.deltas.map((d) => `${d.from}-${d.to}`), ["9-10", "10-11", "11-12"]);
  // The late node, at version 1, is behind every delta listed: it takes the snapshot.
  assert.equal(await follow(late, feed.out, manifest), "snapshot");
  assert.deepEqual(mirrorRows(late), mirrorRows(feed.source));
});

Deno.test("the oldest deltas before the snapshot go first when the retention would keep more than the cap", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  for (let v = 1; v <= 8; v++) {
    await feed.publish([domain(`v${v}.example`)], START + v * MINUTE, {
      snapshotEvery: 3,
      maxDeltas: 4,
    });
  }
  const manifest = await feed.manifest();
  assert.equal(manifest.snapshot.version, 7);
  // The retention (7 days) would keep all seven; the cap keeps the newest four.
  assert.deepEqual(manifest.deltas.map((d) => `${d.from}-${d.to}`), [
    "4-5",
    "5-6",
    "6-7",
    "7-8",
  ]);
});

Deno.test("a manifest that nodes would refuse is refused by the publisher and nothing is published", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish([domain("a.example")], START);
  // A clock past the year 9999 writes "+010000-…", which is no RFC 3339 time.
  await assertNothingPublished(
    feed,
    () => feed.build(Date.UTC(10_000, 0, 1)),
    "invalid_metadata",
    /^The manifest of version 2 is malformed at "created": expected an RFC 3339 UTC time/,
  );
});

Deno.test("a timestamp that nodes would refuse is refused by the publisher and nothing is published", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  await feed.publish([domain("a.example")], START);
  await assertNothingPublished(
    feed,
    () => feed.build(START + MINUTE, { minPollSeconds: 86_401 }),
    "invalid_metadata",
    /^The timestamp of version 2 is malformed at "minPollSeconds": /,
  );
  const report = await feed.build(START + 2 * MINUTE);
  assert.equal(report.version, 2);
});

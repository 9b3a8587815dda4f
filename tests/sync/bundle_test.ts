/** Offline bundles: what an export holds, syncing a node from one, and refusing hostile TARs. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { memoryLogger } from "../../src/core/log.ts";
import { computeMirrorChecksum } from "../../src/feed/apply.ts";
import { exportBundle, openBundle } from "../../src/mirror/bundle.ts";
import { syncOnce, type SyncRunResult } from "../../src/mirror/client.ts";
import { rootFile } from "../../src/feed/feed_files.ts";
import { rotateRoot } from "../../src/feed/feed_root.ts";
import { tempDir } from "../_helpers.ts";
import {
  createFeed,
  DAY,
  domain,
  HOUR,
  isSyncError,
  mirrorRows,
  newKey,
  openDb,
  START,
  tarNames,
  type TestFeed,
} from "./_publisher.ts";

/** Publishes three versions and rotates the root (to version 2) after the first. */
async function threeVersions(dir: string): Promise<TestFeed> {
  const feed = await createFeed(dir);
  await feed.publish([domain("a.example"), domain("b.example")], START);
  await rotateRoot(feed.out, {
    oldSigners: [feed.rootKey],
    newSigners: [await newKey()],
    rootThreshold: 1,
    timestampRole: { keys: [feed.timestampKey], threshold: 1 },
    expires: START + 365 * DAY,
  });
  await feed.publish([domain("b.example", "phishing"), domain("c.example")], START + HOUR);
  await feed.publish([domain("c.example"), domain("d.example")], START + 2 * HOUR);
  return feed;
}

/** Syncs the node database in `nodeDir` from a bundle, trusting the feed's root version 1. */
async function syncFromBundle(
  db: DatabaseSync,
  nodeDir: string,
  bundle: string,
  feed: TestFeed,
): Promise<SyncRunResult> {
  await using source = await openBundle(bundle, join(nodeDir, "sync", "staging"));
  return await syncOnce({
    db,
    source,
    dataDir: nodeDir,
    shippedRoot: await Deno.readTextFile(join(feed.out, rootFile(1))),
    now: () => START + 3 * HOUR,
    log: memoryLogger(),
    maxFileBytes: 1 << 30,
    serveFeed: false,
  });
}

interface RawEntry {
  name: string;
  body?: string;
  type?: "file" | "symlink" | "directory";
}

/** Writes a TAR with exactly these entries, however hostile. */
async function writeRawTar(path: string, entries: RawEntry[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const collecting = (async (): Promise<void> => {
    for await (const chunk of pack) chunks.push(chunk);
  })();
  for (const e of entries) {
    if (e.type === "symlink") {
      pack.entry({ name: e.name, type: "symlink", linkname: "/etc/passwd" });
    } else if (e.type === "directory") pack.entry({ name: e.name, type: "directory" });
    else pack.entry({ name: e.name }, e.body ?? "{}");
  }
  pack.finalize();
  await collecting;
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  await Deno.writeFile(path, bytes);
}

async function listDir(path: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

Deno.test("an exported bundle holds every root version, the timestamp, the manifest, the snapshot and the deltas", async () => {
  await using dir = await tempDir();
  using feed = await threeVersions(dir.path);
  const bundle = join(dir.path, "feed.tar");
  const report = await exportBundle(feed.out, bundle);
  const manifest = await feed.manifest();
  const names = await tarNames(bundle);
  assert.deepEqual(names.slice(0, 4), [
    "root.json",
    "root.1.json",
    "root.2.json",
    "timestamp.json",
  ]);
  assert.match(names[4], /^manifests\/3\.[0-9a-f]{64}\.json$/);
  assert.deepEqual(names.slice(5), [
    manifest.snapshot.name,
    ...manifest.deltas.map((d) => d.name),
  ]);
  assert.equal(manifest.deltas.length, 2);
  assert.deepEqual([report.version, report.files], [3, 8]);
});

Deno.test("exporting writes through a temporary file and replaces an older bundle", async () => {
  await using dir = await tempDir();
  using feed = await threeVersions(dir.path);
  const folder = join(dir.path, "out");
  await Deno.mkdir(folder);
  const bundle = join(folder, "feed.tar");
  await Deno.writeTextFile(bundle, "an older bundle");
  await exportBundle(feed.out, bundle);
  assert.deepEqual(await listDir(folder), ["feed.tar"]);
  assert.equal((await tarNames(bundle)).length, 8);
});

Deno.test("exporting a feed without a published version is refused and writes nothing", async () => {
  await using dir = await tempDir();
  using feed = await createFeed(dir.path);
  const bundle = join(dir.path, "feed.tar");
  await assert.rejects(exportBundle(feed.out, bundle), isSyncError("no_timestamp"));
  await assert.rejects(Deno.stat(bundle), Deno.errors.NotFound);
});

Deno.test("a node syncs from a bundle to the publisher's state, following the root rotation", async () => {
  await using dir = await tempDir();
  await using nodeDir = await tempDir();
  using feed = await threeVersions(dir.path);
  using node = openDb(join(nodeDir.path, "pksn.db"));
  const bundle = join(dir.path, "feed.tar");
  await exportBundle(feed.out, bundle);
  const result = await syncFromBundle(node, nodeDir.path, bundle, feed);
  assert.deepEqual([result.outcome, result.to], ["updated", 3]);
  assert.deepEqual(mirrorRows(node), mirrorRows(feed.source));
  assert.equal(computeMirrorChecksum(node).checksum, (await feed.manifest()).checksum);
});

Deno.test("a node at an older version takes only the deltas from a bundle", async () => {
  await using dir = await tempDir();
  await using nodeDir = await tempDir();
  using feed = await createFeed(dir.path);
  using node = openDb(join(nodeDir.path, "pksn.db"));
  const bundle = join(dir.path, "feed.tar");
  await feed.publish([domain("a.example")], START);
  await exportBundle(feed.out, bundle);
  await syncFromBundle(node, nodeDir.path, bundle, feed);

  await feed.publish([domain("b.example")], START + HOUR);
  await feed.publish([domain("b.example"), domain("c.example")], START + 2 * HOUR);
  await exportBundle(feed.out, bundle);
  const result = await syncFromBundle(node, nodeDir.path, bundle, feed);
  assert.deepEqual(result.via, ["delta", "delta"]);
  assert.deepEqual(mirrorRows(node), mirrorRows(feed.source));
});

Deno.test("a bundle source has no text for a name it lacks and refuses to fetch one with missing_file", async () => {
  await using dir = await tempDir();
  using feed = await threeVersions(dir.path);
  const bundle = join(dir.path, "feed.tar");
  await exportBundle(feed.out, bundle);
  await using source = await openBundle(bundle, join(dir.path, "staging"));
  assert.equal(await source.text(rootFile(3), 65_536), null);
  assert.match((await source.text(rootFile(2), 65_536))!, /"version": 2/);
  const missing = { name: "deltas/9-10.x.bin", sha256: "0".repeat(64), length: 1 };
  await assert.rejects(source.fetch(missing, join(dir.path, "x")), isSyncError("missing_file"));
});

Deno.test("a bundle source copies a data file to the path asked and refuses metadata over the size asked", async () => {
  await using dir = await tempDir();
  using feed = await threeVersions(dir.path);
  const bundle = join(dir.path, "feed.tar");
  await exportBundle(feed.out, bundle);
  const snapshot = (await feed.manifest()).snapshot;
  await using source = await openBundle(bundle, join(dir.path, "staging"));
  await source.fetch(snapshot, join(dir.path, "copy"));
  assert.deepEqual(
    await Deno.readFile(join(dir.path, "copy")),
    await Deno.readFile(join(feed.out, snapshot.name)),
  );
  await assert.rejects(source.text("timestamp.json", 10), isSyncError("too_large"));
});

Deno.test("closing a bundle source removes the unpacked files", async () => {
  await using dir = await tempDir();
  using feed = await threeVersions(dir.path);
  const bundle = join(dir.path, "feed.tar");
  await exportBundle(feed.out, bundle);
  const staging = join(dir.path, "staging");
  const source = await openBundle(bundle, staging);
  assert.equal((await listDir(staging)).length, 1);
  await source.close();
  assert.deepEqual(await listDir(staging), []);
});

Deno.test("a bundle with an entry outside the feed's names, or not a regular file, is refused and leaves nothing", async () => {
  await using dir = await tempDir();
  const staging = join(dir.path, "staging");
  const hostile: RawEntry[] = [
    { name: "../timestamp.json" },
    { name: "/timestamp.json" },
    { name: "etc/passwd" },
    { name: "manifests/../../x.json" },
    { name: "snapshots/.hidden" },
    { name: "notes.txt" },
    { name: "timestamp.json", type: "symlink" },
    { name: "etc/", type: "directory" },
    { name: "manifests/../", type: "directory" },
  ];
  for (const entry of hostile) {
    const bundle = join(dir.path, "hostile.tar");
    await writeRawTar(bundle, [{ name: "root.1.json" }, entry]);
    await assert.rejects(openBundle(bundle, staging), isSyncError("invalid_bundle"), entry.name);
    assert.deepEqual(await listDir(staging), [], `nothing left after ${entry.name}`);
  }
  await assert.rejects(Deno.stat(join(dir.path, "timestamp.json")), Deno.errors.NotFound);
});

Deno.test("a bundle entry over its size cap is refused", async () => {
  await using dir = await tempDir();
  const bundle = join(dir.path, "big.tar");
  await writeRawTar(bundle, [{ name: "snapshots/1.bin", body: "12345" }]);
  await assert.rejects(
    openBundle(bundle, join(dir.path, "staging"), { maxFileBytes: 4 }),
    isSyncError("invalid_bundle"),
  );
  await writeRawTar(bundle, [{ name: "timestamp.json", body: "x".repeat(64 * 1024 + 1) }]);
  await assert.rejects(
    openBundle(bundle, join(dir.path, "staging")),
    isSyncError("invalid_bundle"),
  );
});

Deno.test("a bundle naming a file twice is refused", async () => {
  await using dir = await tempDir();
  const bundle = join(dir.path, "twice.tar");
  await writeRawTar(bundle, [{ name: "timestamp.json" }, { name: "timestamp.json" }]);
  await assert.rejects(
    openBundle(bundle, join(dir.path, "staging")),
    isSyncError("invalid_bundle"),
  );
});

Deno.test("a file that is not a TAR, or no file at all, is refused as a bundle", async () => {
  await using dir = await tempDir();
  const bundle = join(dir.path, "noise.tar");
  await Deno.writeFile(bundle, crypto.getRandomValues(new Uint8Array(2048)));
  await assert.rejects(
    openBundle(bundle, join(dir.path, "staging")),
    isSyncError("invalid_bundle"),
  );
  await assert.rejects(
    openBundle(join(dir.path, "absent.tar"), join(dir.path, "staging")),
    isSyncError("invalid_bundle"),
  );
});

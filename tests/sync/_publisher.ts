/** Plumbing for the publisher and bundle tests: keys, databases, a feed tree and a node applying it. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { importRecords } from "../../src/feeds/mod.ts";
import { openDatabase } from "../../src/store/database.ts";
import { ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { migrate } from "../../src/store/migrations.ts";
import { applyDelta, applySnapshot } from "../../src/feed/apply.ts";
import { feedPath, TIMESTAMP_FILE } from "../../src/feed/feed_files.ts";
import { initRoot } from "../../src/feed/feed_root.ts";
import type { Manifest } from "../../src/feed/metadata.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import {
  type BuildOptions,
  type BuildReport,
  buildVersion,
  readCurrent,
  readFeedRoot,
} from "../../src/feed/publisher.ts";
import { generateKeyFile, parseKeyFile, type SigningKey } from "../../src/feed/signing.ts";
import { fileSource, StreamReader } from "../../src/feed/stream_reader.ts";
import { SyncError } from "../../src/feed/sync_error.ts";
import { readLines } from "../../src/core/lines.ts";

/** 2026-11-28 12:00 UTC, the tests' "now". */
export const START = Date.UTC(2026, 10, 28, 12, 0, 0);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A fresh Ed25519 signing key. */
export async function newKey(): Promise<SigningKey> {
  return await parseKeyFile(JSON.stringify(await generateKeyFile()), "test key");
}

/** Opens (creating) a migrated pksn database at `path`. */
export function openDb(path: string): DatabaseSync {
  const db = openDatabase(path, { cacheMiB: 8 });
  migrate(db);
  return db;
}

/** A domain record with a verdict. */
export function domain(value: string, verdict = "malicious", threat?: string): object {
  return { type: "domain", value, verdict, threat, source: "test" };
}

/** Replaces the database's mirror rows with `records`. */
export async function setMirror(db: DatabaseSync, records: object[]): Promise<void> {
  db.exec(`DELETE FROM entry WHERE origin = ${ORIGIN_MIRROR}`);
  const text = records.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const report = await importRecords(
    db,
    readLines(ReadableStream.from([new TextEncoder().encode(text)])),
    { format: "ndjson", origin: ORIGIN_MIRROR, source: "test" },
  );
  if (!report.committed) throw new Error(`bad test records: ${JSON.stringify(report.errors)}`);
}

/** The mirror rows of a database, as plain objects in key order. */
export function mirrorRows(db: DatabaseSync): Record<string, unknown>[] {
  return db.prepare(
    "SELECT hex(e.key) AS key, a.verdict AS verdict, a.threat AS threat, " +
      "a.categories AS categories, e.first_seen AS first_seen, e.last_seen AS last_seen, " +
      "a.ttl AS ttl, a.source AS source FROM entry e JOIN attr a ON a.id = e.attr " +
      "WHERE e.origin = 0 ORDER BY e.key",
  ).all().map((row) => ({ ...row }));
}

/** A publisher's feed tree with its state and source databases, in a test folder; disposing closes them. */
export interface TestFeed extends Disposable {
  out: string;
  statePath: string;
  state: DatabaseSync;
  source: DatabaseSync;
  rootKey: SigningKey;
  timestampKey: SigningKey;
  build(now: number, options?: Partial<BuildOptions>): Promise<BuildReport>;
  /** Replaces the source's mirror rows with `records` and builds the next version. */
  publish(records: object[], now: number, options?: Partial<BuildOptions>): Promise<BuildReport>;
  /** The current manifest. */
  manifest(): Promise<Manifest>;
  close(): void;
}

/** Creates root version 1 in `dir/feed` and the databases beside it. */
export async function createFeed(dir: string): Promise<TestFeed> {
  const out = join(dir, "feed");
  const rootKey = await newKey();
  const timestampKey = await newKey();
  await initRoot(out, {
    signers: [rootKey],
    rootThreshold: 1,
    timestampRole: { keys: [timestampKey], threshold: 1 },
    expires: START + 365 * DAY,
  });
  const feed: TestFeed = {
    out,
    statePath: join(dir, "feed.publisher.db"),
    state: openDb(join(dir, "feed.publisher.db")),
    source: openDb(join(dir, "source.db")),
    rootKey,
    timestampKey,
    build: (now, options = {}) =>
      buildVersion({
        out,
        state: feed.state,
        source: feed.source,
        timestampKeys: [timestampKey],
        now,
        snapshotEvery: 10,
        deltaRetentionSeconds: 7 * 86_400,
        expiresSeconds: 48 * 3600,
        minPollSeconds: 60,
        ...options,
      }),
    async publish(records, now, options): Promise<BuildReport> {
      await setMirror(feed.source, records);
      return await feed.build(now, options);
    },
    async manifest(): Promise<Manifest> {
      const current = await readCurrent(out, await readFeedRoot(out));
      if (current === null) throw new Error("the feed has no version yet");
      return current.manifest;
    },
    close(): void {
      if (feed.state.isOpen) feed.state.close();
      if (feed.source.isOpen) feed.source.close();
    },
    [Symbol.dispose](): void {
      feed.close();
    },
  };
  return feed;
}

/** For `assert.rejects`: whether `err` is a SyncError with `code`. */
export function isSyncError(code: string): (err: unknown) => boolean {
  return (err) => err instanceof SyncError && err.code === code;
}

/**
 * Asserts that `build` fails with a SyncError of `code` (and a message matching
 * `message`, when given) and leaves the feed's timestamp.json as it was.
 */
export async function assertNothingPublished(
  feed: TestFeed,
  build: () => Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<void> {
  const before = await Deno.readTextFile(join(feed.out, TIMESTAMP_FILE));
  await assert.rejects(build(), (err: unknown) => {
    assert.ok(err instanceof SyncError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
  assert.equal(await Deno.readTextFile(join(feed.out, TIMESTAMP_FILE)), before);
}

/** Applies one snapshot or delta of the tree to `db`, as a node would. */
export async function applyFromTree(
  db: DatabaseSync,
  out: string,
  name: string,
  kind: "snapshot" | "delta",
): Promise<void> {
  const file = await Deno.open(feedPath(out, name), { read: true });
  try {
    const reader = new StreamReader(fileSource(file), name);
    if (kind === "snapshot") await applySnapshot(db, reader, { expires: null });
    else await applyDelta(db, reader, { expires: null });
  } finally {
    file.close();
  }
}

/** Brings `db` to the tree's current version: the snapshot when it has nothing, else the deltas. */
export async function syncFromTree(
  db: DatabaseSync,
  out: string,
  manifest: Manifest,
): Promise<void> {
  let at = readMirrorState(db).version;
  if (at === 0) {
    await applyFromTree(db, out, manifest.snapshot.name, "snapshot");
    at = manifest.snapshot.version;
  }
  for (const delta of manifest.deltas.filter((d) => d.from >= at)) {
    await applyFromTree(db, out, delta.name, "delta");
  }
}

/** The names of the entries of a TAR file, in order. */
export async function tarNames(path: string): Promise<string[]> {
  // @ts-types="@types/tar-stream"
  const tar = (await import("tar-stream")).default;
  const extract = tar.extract();
  const names: string[] = [];
  const done = (async (): Promise<void> => {
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
  })();
  extract.end(await Deno.readFile(path));
  await done;
  return names;
}

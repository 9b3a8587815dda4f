/**
 * One sync run's housekeeping: a bounded download loop, the run's deadline,
 * a tidy staging folder, one index refresh per run, and a status that other
 * processes' runs are not overwritten in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { type Config, resolveConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import type { FeedSource } from "../../src/mirror/feed_source.ts";
import { HttpFeedSource } from "../../src/mirror/http_source.ts";
import { readSyncStatus } from "../../src/feed/mirror_state.ts";
import { SyncService } from "../../src/mirror/service.ts";
import type { SyncProgressEvent } from "../../src/mirror/client.ts";
import { makeBundleDir } from "../../src/mirror/staging.ts";
import { SyncError } from "../../src/feed/sync_error.ts";
import { fakeClock, tempDir } from "../_helpers.ts";
import { FeedServer, fileRecords, md5Of, startChild, syncOf, T0, TestOrigin } from "./_feed.ts";
import { answerFor, assertServes, childAtVersion1, failsWith, readCurrent } from "./_faults.ts";

const SNAPSHOT = /^snapshots\//;

/** A sync service over its own data folder, without a server around it. */
interface Bare extends Disposable {
  service: SyncService;
  db: DatabaseSync;
  lines: string[];
}

async function bareService(
  dataDir: string,
  server: FeedServer,
  origin: TestOrigin,
  options: {
    clock?: ReturnType<typeof fakeClock>;
    sync?: Partial<Config["sync"]>;
    source?: FeedSource;
    onApplied?: () => void;
    onProgress?: (event: SyncProgressEvent) => void;
  } = {},
): Promise<Bare> {
  const log = memoryLogger();
  const db = await openStore(dataDir, { cacheMiB: 8, log });
  const config = resolveConfig({
    dataDir,
    sync: { url: server.url, root: origin.rootPath, ...options.sync },
  });
  const service = new SyncService(
    {
      config: config.sync,
      dataDir,
      db,
      clock: options.clock ?? fakeClock(T0),
      log,
      mode: { mode: "current" },
      onApplied: options.onApplied,
      onProgress: options.onProgress,
      source: options.source,
    },
    await Deno.readTextFile(origin.rootPath),
    null,
  );
  return { service, db, lines: log.lines, [Symbol.dispose]: () => db.close() };
}

/** A plain HTTP source for the server's feed, on the fake clock's start. */
function httpSource(server: FeedServer): HttpFeedSource {
  return new HttpFeedSource({
    url: server.url,
    key: null,
    timeoutSeconds: 30,
    log: memoryLogger(),
    now: () => T0,
  });
}

Deno.test("a 206 for other bytes than asked is tried 3 times, then fails with http_error", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(200));
  await using server = new FeedServer(origin.tree);
  server.tamper = (name) => {
    if (!SNAPSHOT.test(name)) return undefined;
    const bytes = Deno.readFileSync(join(origin.tree, name));
    return new Response(bytes.subarray(5), {
      status: 206,
      headers: { "Content-Range": `bytes 5-${bytes.length - 1}/${bytes.length}` },
    });
  };
  await using child = await startChild(server.url, origin.rootPath);

  const err = await failsWith(syncOf(child).runOnce(), "http_error");
  assert.match(
    err.message,
    /"http:\/\/127\.0\.0\.1:\d+\/snapshots\/1\.\w+\.bin" answered 206 with Content-Range "bytes 5-\d+\/\d+" when asked for the bytes from 0 on; tried 3 times/,
  );
  assert.equal(server.count(SNAPSHOT), 3);
  await assertServes(child, 0, md5Of(3), "unknown");
});

Deno.test("a download that cannot be written fails with disk_error and is not retried", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(200));
  await using server = new FeedServer(origin.tree);
  await using dir = await tempDir();
  const source = httpSource(server);
  const { snapshot } = (await readCurrent(origin.tree)).manifest;
  const target = join(dir.path, "no-such-folder", snapshot.sha256);

  const err = await failsWith(source.fetch(snapshot, target), "disk_error");
  assert.match(err.message, /^Cannot write "[^"]+\/no-such-folder\/\w{64}\.part": /);
  assert.equal(server.count(SNAPSHOT), 1);
});

Deno.test("a run past sync.deadlineSeconds stops between files with deadline", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(200));
  await using server = new FeedServer(origin.tree);
  await using dir = await tempDir();
  // A source that ignores the deadline itself (as a bundle does) and is slow with the manifest.
  const http = httpSource(server);
  const slow: FeedSource = {
    label: http.label,
    text: (name, max) => http.text(name, max),
    async fetch(ref, path): Promise<void> {
      if (ref.name.startsWith("manifests/")) await new Promise((r) => setTimeout(r, 1200));
      await http.fetch(ref, path);
    },
  };
  using bare = await bareService(dir.path, server, origin, {
    sync: { deadlineSeconds: 1 },
    source: slow,
  });

  const err = await failsWith(bare.service.runOnce(), "deadline");
  assert.match(
    err.message,
    /passed its deadline \(sync\.deadlineSeconds\) before applying "snapshots\/1\.\w+\.bin"; the mirror stays at version 0/,
  );
  assert.equal(server.count(SNAPSHOT), 0);
  assert.equal(bare.service.report().version, 0);
});

Deno.test("a successful run removes unnamed partial downloads and leftover bundle folders", async () => {
  await using f = await childAtVersion1();
  const { origin, child } = f;
  // A delta; the manifest still names snapshot 1.
  await origin.publishRecords(fileRecords(200, "phishing"));
  const { manifest } = await readCurrent(origin.tree);
  const staging = join(child.dataDir, "sync", "staging");
  const named = join(staging, `${manifest.snapshot.sha256}.part`);
  const stray = join(staging, `${"ab".repeat(32)}.part`);
  const verified = join(staging, "cd".repeat(32));
  for (const path of [named, stray, verified]) await Deno.writeFile(path, new Uint8Array(10));
  const old = new Date(Date.now() - 3600_000);
  // A killed import's folder (lock file free) and one a live import holds.
  const killed = join(staging, "bundle-killed");
  await Deno.mkdir(killed);
  await Deno.writeTextFile(join(killed, "timestamp.json"), "{}");
  await Deno.writeTextFile(join(killed, ".lock"), "");
  const live = await makeBundleDir(staging);
  for (const path of [join(killed, ".lock"), killed, join(live.path, ".lock"), live.path]) {
    await Deno.utime(path, old, old);
  }

  assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
  const left = (await Array.fromAsync(Deno.readDir(staging))).map((e) => e.name).sort();
  assert.deepEqual(left, [`${manifest.snapshot.sha256}.part`, live.path.split("/").at(-1)].sort());
  await live.release();
  const after = (await Array.fromAsync(Deno.readDir(staging))).map((e) => e.name);
  assert.deepEqual(after, [`${manifest.snapshot.sha256}.part`], "release removes the live one");
});

Deno.test("the service calls onApplied once per run, also for a run that fails after applying", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(50));
  await using server = new FeedServer(origin.tree);
  await using dir = await tempDir();
  let calls = 0;
  using bare = await bareService(dir.path, server, origin, { onApplied: () => void calls++ });
  await bare.service.runOnce();
  assert.equal(calls, 1);

  for (const n of [60, 70]) await origin.publishRecords(fileRecords(n));
  assert.deepEqual((await bare.service.runOnce()).via, ["delta", "delta"]);
  assert.equal(calls, 2, "two deltas, one refresh");

  for (const n of [80, 90]) await origin.publishRecords(fileRecords(n));
  const last = (await readCurrent(origin.tree)).manifest.deltas.at(-1)!.name;
  server.tamper = answerFor(last, () => new Response("gone", { status: 404 }));
  const missing = (err: unknown): boolean => (err as SyncError).code === "missing_delta";
  await assert.rejects(bare.service.runOnce(), missing);
  assert.equal(bare.service.report().version, 4);
  assert.equal(calls, 3, "the delta that committed is refreshed for");
  await assert.rejects(bare.service.runOnce(), missing);
  assert.equal(calls, 3, "nothing applied, no refresh");
});

Deno.test("a service sees a version another process applied and keeps its status", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(50));
  await using server = new FeedServer(origin.tree);
  await using dir = await tempDir();
  const clock = fakeClock(T0);
  using serving = await bareService(dir.path, server, origin, { clock });
  await serving.service.runOnce();

  // A cron `pksn sync` (another connection) applies version 2 a minute later.
  await origin.publishRecords(fileRecords(60), { now: T0 + 60_000 });
  const cron = await bareService(dir.path, server, origin, { clock: fakeClock(T0 + 60_000) });
  try {
    assert.equal((await cron.service.runOnce()).to, 2);
  } finally {
    cron.db.close();
  }
  serving.service.refreshMode();
  const seen = serving.service.report();
  assert.deepEqual([seen.version, seen.upstreamVersion, seen.lastSuccess], [
    2,
    2,
    new Date(T0 + 60_000).toISOString(),
  ]);

  // The serving node's next run fails; what it records builds on the stored status.
  clock.set(T0 + 120_000);
  server.tamper = () => new Response("broken", { status: 500 });
  await assert.rejects(serving.service.runOnce());
  const stored = readSyncStatus(serving.db);
  assert.deepEqual(
    [stored.seenVersion, stored.lastSuccess, stored.consecutiveFailures, stored.lastAttempt],
    [2, T0 + 60_000, 1, T0 + 120_000],
  );
});

Deno.test("a run tells its progress: each download in bytes up to the file's signed length, each apply in records", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(20_000));
  // Version 2 changes the verdict of the first 1,000 and keeps the rest: a delta of 1,000.
  await origin.publishRecords([
    ...fileRecords(1_000, "suspicious"),
    ...fileRecords(19_000, "malicious", 1_000),
  ]);
  await using server = new FeedServer(origin.tree);
  await using dir = await tempDir();
  const events: SyncProgressEvent[] = [];
  using bare = await bareService(dir.path, server, origin, {
    onProgress: (event) => events.push({ ...event }),
  });
  const result = await bare.service.runOnce();
  assert.deepEqual(result.via, ["snapshot", "delta"]);

  const steps = [...new Set(events.map((e) => `${e.step} ${e.name}`))];
  assert.deepEqual(steps.map((s) => s.replace(/\/.*/, "")), [
    "download manifests",
    "download snapshots",
    "apply snapshots",
    "download deltas",
    "apply deltas",
  ], `steps in order: ${steps.join(", ")}`);
  for (const step of steps) {
    const mine = events.filter((e) => `${e.step} ${e.name}` === step);
    const last = mine[mine.length - 1];
    assert.equal(last.done, last.total, `${step} ends at its total`);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].done >= mine[i - 1].done, step);
  }
  const applies = events.filter((e) => e.step === "apply");
  assert.equal(applies.find((e) => /snapshot/.test(e.name))?.total, 20_000);
  assert.equal(applies.find((e) => /delta/.test(e.name))?.total, 1_000);
});

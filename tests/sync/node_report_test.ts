/**
 * How a following node reports its mirror and its sync: `mirror.sync` in
 * `GET /v1/node`, the gauges in `/metrics`, and `pksn sync status`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeClock, runCli, startTestNode, tempDir, type TestNode } from "../_helpers.ts";
import { writeSyncConfig } from "./_crash.ts";
import {
  addLicence,
  FeedServer,
  fileRecords,
  startFollowing,
  syncOf,
  T0,
  TestOrigin,
} from "./_feed.ts";
import { answerFor, metricsOf, mirrorSyncOf } from "./_faults.ts";

const DAY_MS = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Scrapes /metrics into `series → value`, a series being `name{labels}` as written. */
async function scrape(node: TestNode): Promise<Map<string, number>> {
  const series = new Map<string, number>();
  for (const line of (await metricsOf(node)).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** 500 for every request while set on `server`. */
function failEverything(server: FeedServer): void {
  server.tamper = () => new Response("broken", { status: 500 });
}

Deno.test("GET /v1/node on a following node shows mirror.sync unsynced before the first sync", async () => {
  await using f = await startFollowing(fileRecords(50));
  const { child } = f;
  assert.deepEqual(await mirrorSyncOf(child, await addLicence(child)), {
    state: "unsynced",
    version: 0,
    upstreamVersion: 0,
    lagVersions: 0,
    expires: null,
    lastAttempt: null,
    lastSuccess: null,
    consecutiveFailures: 0,
    lastError: null,
  });
});

Deno.test("GET /v1/node shows mirror.sync fresh at the synced version, then stale, then frozen", async () => {
  const clock = fakeClock(T0);
  await using f = await startFollowing(fileRecords(50), {}, { clock });
  const { origin, child } = f;
  const key = await addLicence(child);
  await syncOf(child).runOnce();
  assert.deepEqual(await mirrorSyncOf(child, key), {
    state: "fresh",
    version: 1,
    upstreamVersion: 1,
    lagVersions: 0,
    expires: iso(T0 + DAY_MS),
    lastAttempt: iso(T0),
    lastSuccess: iso(T0),
    consecutiveFailures: 0,
    lastError: null,
  });

  clock.set(T0 + 60_000);
  await origin.publishRecords(fileRecords(60), { now: T0 + 60_000 });
  await syncOf(child).runOnce();
  const second = await mirrorSyncOf(child, key);
  assert.deepEqual(
    [second?.state, second?.version, second?.upstreamVersion, second?.lastSuccess, second?.expires],
    ["fresh", 2, 2, iso(T0 + 60_000), iso(T0 + 60_000 + DAY_MS)],
  );

  clock.set(T0 + 60_000 + 3 * 3600_000 + 1000); // past staleAfterSeconds (3 h) without a check
  assert.equal((await mirrorSyncOf(child, key))?.state, "stale");
  clock.set(T0 + 60_000 + DAY_MS); // the signed expiry
  assert.equal((await mirrorSyncOf(child, key))?.state, "frozen");
});

Deno.test("mirror.sync counts consecutive failures and a success resets them", async () => {
  await using f = await startFollowing(fileRecords(50));
  const { server, child } = f;
  const key = await addLicence(child);
  failEverything(server);
  for (const n of [1, 2, 3]) {
    await assert.rejects(syncOf(child).runOnce());
    const report = await mirrorSyncOf(child, key);
    assert.equal(report?.consecutiveFailures, n);
    assert.equal(report?.state, "unsynced");
    assert.equal(report?.lastSuccess, null);
    assert.equal(report?.lastAttempt, iso(T0));
    assert.match(String(report?.lastError), /^http_error: .*answered 500/);
  }
  assert.equal((await scrape(child)).get("pksn_sync_consecutive_failures"), 3);

  server.tamper = undefined;
  await syncOf(child).runOnce();
  const report = await mirrorSyncOf(child, key);
  assert.deepEqual(
    [report?.state, report?.version, report?.consecutiveFailures, report?.lastError],
    ["fresh", 1, 0, null],
  );
});

Deno.test("GET /metrics on a following node has the mirror and sync gauges", async () => {
  await using f = await startFollowing(fileRecords(50));
  const { child } = f;
  const before = await scrape(child);
  assert.equal(before.get("pksn_mirror_version"), 0);
  assert.equal(before.get('pksn_mirror_state{state="unsynced"}'), 1);
  assert.equal(before.get('pksn_mirror_state{state="fresh"}'), 0);
  assert.equal(before.has("pksn_sync_last_success_timestamp_seconds"), false, "no success yet");

  await syncOf(child).runOnce();
  const after = await scrape(child);
  const expected: [string, number][] = [
    ["pksn_mirror_version", 1],
    ["pksn_sync_upstream_version", 1],
    ["pksn_sync_lag_versions", 0],
    ["pksn_sync_last_success_timestamp_seconds", T0 / 1000],
    ["pksn_sync_consecutive_failures", 0],
    ["pksn_mirror_expiry_timestamp_seconds", (T0 + DAY_MS) / 1000],
    ['pksn_mirror_state{state="fresh"}', 1],
    ['pksn_mirror_state{state="unsynced"}', 0],
    ['pksn_mirror_state{state="stale"}', 0],
    ['pksn_mirror_state{state="frozen"}', 0],
  ];
  for (const [series, value] of expected) assert.equal(after.get(series), value, series);
});

Deno.test("a node without sync configured shows mirror.sync null and no sync gauges", async () => {
  await using node = await startTestNode({ clock: fakeClock(T0) });
  assert.equal(await mirrorSyncOf(node, await addLicence(node)), null);
  const metrics = await scrape(node);
  for (const series of metrics.keys()) {
    assert.doesNotMatch(series, /^pksn_(mirror_version|mirror_state|sync_)/, series);
  }
});

// The upstream's version is recorded as soon as its signed timestamp passed the
// checks, so a run that then fails still shows how far behind the mirror is.
Deno.test({
  name: "mirror.sync shows the lag when a run saw a newer version but could not apply it",
  fn: async () => {
    await using f = await startFollowing(fileRecords(50));
    const { origin, server, child } = f;
    const key = await addLicence(child);
    await syncOf(child).runOnce();
    await origin.publishRecords(fileRecords(60));
    await origin.publishRecords(fileRecords(70));
    server.tamper = answerFor(
      /^(deltas|snapshots)\//,
      () => new Response("broken", { status: 500 }),
    );
    await assert.rejects(syncOf(child).runOnce());
    const report = await mirrorSyncOf(child, key);
    assert.deepEqual(
      [report?.version, report?.upstreamVersion, report?.lagVersions],
      [1, 3, 2],
    );
    assert.equal((await scrape(child)).get("pksn_sync_lag_versions"), 2);
  },
});

Deno.test("pksn sync status --json reports unsynced, failures, then fresh after pksn sync", async () => {
  // The CLI runs on the real clock: sign against it.
  await using origin = await TestOrigin.atVersion1(fileRecords(50), {
    now: Date.now(),
    expiresSeconds: 86_400,
  });
  await using server = new FeedServer(origin.tree);
  await using dir = await tempDir();
  const config = await writeSyncConfig(dir.path, join(dir.path, "data"), {
    url: server.url,
    root: origin.rootPath,
  });
  const status = async (): Promise<Record<string, unknown>> => {
    const res = await runCli(["sync", "status", "--json", "--config", config]);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout);
  };

  const unsynced = await status();
  assert.deepEqual(
    [unsynced.state, unsynced.version, unsynced.lastSuccess, unsynced.consecutiveFailures],
    ["unsynced", 0, null, 0],
  );

  failEverything(server);
  const failed = await runCli(["sync", "--config", config]);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /answered 500/);
  const afterFailure = await status();
  assert.equal(afterFailure.consecutiveFailures, 1);
  assert.match(String(afterFailure.lastError), /^http_error: /);

  server.tamper = undefined;
  const started = Date.now();
  const synced = await runCli(["sync", "--config", config]);
  assert.equal(synced.code, 0, synced.stderr);
  const fresh = await status();
  assert.deepEqual(
    [
      fresh.state,
      fresh.version,
      fresh.upstreamVersion,
      fresh.lagVersions,
      fresh.consecutiveFailures,
    ],
    ["fresh", 1, 1, 0, 0],
  );
  const lastSuccess = Date.parse(String(fresh.lastSuccess));
  assert.ok(lastSuccess >= started - 1000 && lastSuccess <= Date.now(), String(fresh.lastSuccess));
});

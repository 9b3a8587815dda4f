/**
 * Faults between a publisher and a child: broken, altered, replayed, expired,
 * oversized and mis-based feed files, a busy server and a key rotation. In each
 * the child must refuse what it cannot trust, keep serving the version it has,
 * say so in one log line and count it in /metrics.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { computeMirrorChecksum } from "../../src/sync/apply.ts";
import { rotateRoot } from "../../src/sync/feed_root.ts";
import { readMirrorState } from "../../src/sync/mirror_state.ts";
import { buildVersion } from "../../src/sync/publisher.ts";
import { nextPollSeconds, type ScheduleInput } from "../../src/sync/schedule.ts";
import { generateKeyFile, parseKeyFile } from "../../src/sync/signing.ts";
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
  assertMetrics,
  assertServes,
  childAtVersion1,
  failsWith,
  flipByte,
  logLine,
  metricsOf,
  nodeSyncReport,
  readCurrent,
  recraftDelta,
  republishHistory,
  serveBytes,
  writeTimestamp,
} from "./_faults.ts";

const SNAPSHOT = /^snapshots\//;
const DELTA = /^deltas\//;

Deno.test("a download that breaks off half-way resumes with a Range request in the same run", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(20_000));
  await origin.publish();
  const { manifest } = await readCurrent(origin.tree);
  const half = manifest.snapshot.length >> 1;
  assert.ok(half > 100_000, `a big snapshot (${manifest.snapshot.length} bytes)`);
  await using server = new FeedServer(origin.tree);
  const bytes = (await Deno.readFile(join(origin.tree, manifest.snapshot.name))).subarray(0, half);
  let broken = 0;
  server.tamper = (name, req) => {
    if (!SNAPSHOT.test(name) || req.headers.has("Range") || broken++ > 0) return undefined;
    // A 200 that announces the whole file, then the connection drops half-way.
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller): void {
        if (sent) return controller.close();
        sent = true;
        controller.enqueue(bytes);
      },
    });
    return new Response(body, {
      headers: { "Content-Length": String(manifest.snapshot.length) },
    });
  };
  await using child = await startChild(server.url, origin.rootPath);

  const result = await syncOf(child).runOnce();
  assert.deepEqual(result.via, ["snapshot"]);
  await assertServes(child, 1, md5Of(19_999), "malicious");
  const ranges = server.requests.filter((r) => SNAPSHOT.test(r.name)).map((r) => r.range);
  assert.deepEqual(ranges, [null, `bytes=${half}-`]);
  logLine(child, /WARN/, new RegExp(`Download of "snapshots/[^"]+" broke off at byte ${half}`));
  logLine(
    child,
    new RegExp(
      `Resuming download of "snapshots/[^"]+" at byte ${half} of ${manifest.snapshot.length}`,
    ),
  );
  await assertMetrics(
    child,
    "pksn_sync_resumed_downloads_total 1",
    'pksn_sync_runs_total{result="updated"} 1',
  );
});

Deno.test("a delta with one byte flipped is refused with hash_mismatch and the old version kept", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  await origin.setRecords(fileRecords(200, "phishing"));
  await origin.publish();
  server.tamper = (name, req) =>
    DELTA.test(name)
      ? serveBytes(flipByte(Deno.readFileSync(join(origin.tree, name))), req)
      : undefined;

  const err = await failsWith(syncOf(child).runOnce(), "hash_mismatch");
  assert.match(err.message, /"deltas\/1-2\.\w+\.bin" has SHA-256 \w+; the signed metadata says/);
  await assertServes(child, 1, md5Of(3), "malicious");
  assert.equal(server.count(SNAPSHOT), 1, "an altered file is no reason to fetch the snapshot");
  logLine(
    child,
    /ERROR/,
    /Sync failed \(hash_mismatch\); still serving mirror version 1: "deltas\//,
  );
  await assertMetrics(
    child,
    'pksn_sync_failures_total{reason="hash_mismatch"} 1',
    "pksn_mirror_version 1",
    "pksn_sync_consecutive_failures 1",
  );

  server.tamper = undefined;
  assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
  await assertServes(child, 2, md5Of(3), "phishing");
});

Deno.test("a first snapshot with one byte flipped is refused and the child stays unsynced", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(200));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  server.tamper = (name, req) =>
    SNAPSHOT.test(name)
      ? serveBytes(flipByte(Deno.readFileSync(join(origin.tree, name)), 10), req)
      : undefined;
  await using child = await startChild(server.url, origin.rootPath);

  await failsWith(syncOf(child).runOnce(), "hash_mismatch");
  await assertServes(child, 0, md5Of(3), "unknown");
  logLine(child, /Sync failed \(hash_mismatch\); still serving mirror version 0: "snapshots\//);
  await assertMetrics(
    child,
    'pksn_sync_failures_total{reason="hash_mismatch"} 1',
    'pksn_mirror_state{state="unsynced"} 1',
  );
});

Deno.test("a file longer than signed is cut off with wrong_length; one kept short is refused", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  await origin.setRecords(fileRecords(200, "phishing"));
  await origin.publish();
  const delta = (await readCurrent(origin.tree)).manifest.deltas.at(-1)!;
  const bytes = await Deno.readFile(join(origin.tree, delta.name));

  const longer = new Uint8Array(bytes.length + 4096);
  longer.set(bytes);
  server.tamper = (name, req) => name === delta.name ? serveBytes(longer, req) : undefined;
  const long = await failsWith(syncOf(child).runOnce(), "wrong_length");
  assert.match(long.message, /is longer than its signed length of \d+ bytes; cut off and refused/);
  await assertServes(child, 1, md5Of(3), "malicious");
  logLine(child, /Sync failed \(wrong_length\)/, /longer than its signed length/);

  // A server that keeps serving a short file: the resume finds nothing more.
  const shorter = bytes.slice(0, bytes.length - 7);
  server.tamper = (name, req) => name === delta.name ? serveBytes(shorter, req) : undefined;
  const short = await failsWith(syncOf(child).runOnce(), "wrong_length");
  assert.match(short.message, new RegExp(`has no bytes from ${shorter.length} on`));
  assert.equal(server.requests.at(-1)?.range, `bytes=${shorter.length}-`);
  await assertServes(child, 1, md5Of(3), "malicious");
  logLine(child, /Sync failed \(wrong_length\)/, /the server has no bytes from/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="wrong_length"} 2');

  // Once the server is whole again, the next run resumes the kept part and succeeds.
  server.tamper = undefined;
  assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
  assert.equal(server.requests.at(-1)?.range, `bytes=${shorter.length}-`);
  await assertServes(child, 2, md5Of(3), "phishing");
});

Deno.test("a replayed older timestamp.json is refused with rollback", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  const version1 = await Deno.readTextFile(join(origin.tree, "timestamp.json"));
  await origin.setRecords(fileRecords(200, "phishing"));
  await origin.publish();
  assert.equal((await syncOf(child).runOnce()).to, 2);

  server.tamper = (name) => name === "timestamp.json" ? new Response(version1) : undefined;
  const err = await failsWith(syncOf(child).runOnce(), "rollback");
  assert.match(err.message, /offers version 1, older than version 2/);
  await assertServes(child, 2, md5Of(3), "phishing");
  logLine(child, /Sync failed \(rollback\); still serving mirror version 2/, /replayed/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="rollback"} 1');
});

Deno.test("past its signed expiry the mirror freezes: stale answers, or unknown by policy", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(200));
  await origin.publish({ expiresSeconds: 60 });
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
  );
});

Deno.test("a delta missing from the server (404) gives way to the full snapshot", async () => {
  await using f = await childAtVersion1();
  const { origin, server, child } = f;
  await origin.setRecords(fileRecords(200, "phishing"));
  await origin.publish({ snapshotEvery: 1 });
  server.tamper = (name) =>
    DELTA.test(name) ? new Response("not found", { status: 404 }) : undefined;

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
  );
});

// A snapshot older than the mirror cannot replace a missing delta: taking it would
// move the mirror back and then need the same delta again.
Deno.test({
  name: "a missing delta never takes the mirror back to an older snapshot",
  fn: async () => {
    await using f = await childAtVersion1();
    const { origin, server, child } = f;
    await origin.setRecords(fileRecords(200, "phishing"));
    await origin.publish(); // version 2: delta 1→2, the snapshot stays at version 1
    assert.deepEqual((await syncOf(child).runOnce()).via, ["delta"]);
    await origin.setRecords(fileRecords(200, "adware"));
    await origin.publish(); // version 3: deltas 1→2 and 2→3, snapshot 1
    server.tamper = (name) =>
      DELTA.test(name) ? new Response("not found", { status: 404 }) : undefined;

    await failsWith(syncOf(child).runOnce(), "missing_delta");
    await assertServes(child, 2, md5Of(3), "phishing");
    assert.equal(server.count(SNAPSHOT), 1, "a snapshot older than the mirror is no help");
  },
});

Deno.test("a delta whose result disagrees with its checksum rolls back; the snapshot follows", async () => {
  await using f = await childAtVersion1(fileRecords(200));
  const { origin, server, child } = f;
  await origin.setRecords([...fileRecords(200), ...fileRecords(1, "phishing", 5000)]);
  await origin.publish({ snapshotEvery: 1 });
  // A publisher bug: the delta (and the manifest's entry for it) claim another result.
  await recraftDelta(origin.tree, origin.key, (h) => ({ ...h, checksum: "0123456789abcdef" }));
  const db = child.serving.node.db;

  // Without the snapshot, the rolled-back delta leaves the mirror exactly at version 1.
  server.tamper = (name) =>
    SNAPSHOT.test(name) ? new Response("not found", { status: 404 }) : undefined;
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
  await assertMetrics(child, 'pksn_sync_applied_total{kind="snapshot"} 2');
  assert.doesNotMatch(await metricsOf(child), /pksn_sync_applied_total\{kind="delta"\}/);
});

Deno.test("an oversized timestamp.json is cut off with too_large without reading it all", async () => {
  await using f = await childAtVersion1();
  const { server, child } = f;
  const MiB = 1024 * 1024;
  // No Content-Length, and a body that trickles on for a MiB (slowly, so that
  // loopback buffers cannot swallow it all before the client decides).
  let sent = 0;
  server.tamper = (name) => {
    if (name !== "timestamp.json") return undefined;
    sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller): Promise<void> {
          if (sent >= MiB) return controller.close();
          await new Promise((resolve) => setTimeout(resolve, 2));
          sent += 16 * 1024;
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
      }),
    );
  };
  const cut = await failsWith(syncOf(child).runOnce(), "too_large");
  assert.match(cut.message, /"timestamp\.json" is larger than 65536 bytes; cut off and refused/);
  assert.ok(sent <= MiB / 4, `the server sent ${sent} bytes before the client hung up`);

  // A declared Content-Length over the cap is refused before the body is read.
  server.tamper = (name) =>
    name === "timestamp.json" ? new Response(new Uint8Array(MiB)) : undefined;
  const declared = await failsWith(syncOf(child).runOnce(), "too_large");
  assert.match(declared.message, /is 1048576 bytes; at most 65536 are accepted/);

  await assertServes(child, 1, md5Of(3), "malicious");
  logLine(child, /Sync failed \(too_large\); still serving mirror version 1/, /cut off/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="too_large"} 2');
});

Deno.test("a file altered at the middle tier is refused at the edge with hash_mismatch", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(200));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  await using core = await startChild(server.url, origin.rootPath, {
    serveFeed: true,
    feedRequiresLicence: false,
  });
  await syncOf(core).runOnce();
  const { manifest } = await readCurrent(origin.tree);
  const kept = join(core.dataDir, "sync", "feed", manifest.snapshot.name);
  await Deno.writeFile(kept, flipByte(await Deno.readFile(kept)));
  await using edge = await startChild(`${core.url}/feed/`, origin.rootPath);

  const err = await failsWith(syncOf(edge).runOnce(), "hash_mismatch");
  assert.match(err.message, /"snapshots\/1\.\w+\.bin" has SHA-256/);
  await assertServes(edge, 0, md5Of(3), "unknown");
  logLine(edge, /Sync failed \(hash_mismatch\); still serving mirror version 0/);
  await assertMetrics(
    edge,
    'pksn_sync_failures_total{reason="hash_mismatch"} 1',
    'pksn_mirror_state{state="unsynced"} 1',
  );
  await assertServes(core, 1, md5Of(3), "malicious");
});

// A serving node re-checks every file of its served copy each run, so a copy
// damaged on disk (bit rot, a bad restore, tampering) is replaced, not served on.
Deno.test({
  name: "a middle tier replaces a damaged file of its served copy on its next version",
  fn: async () => {
    await using origin = await TestOrigin.create();
    await origin.setRecords(fileRecords(200));
    await origin.publish();
    await using server = new FeedServer(origin.tree);
    await using core = await startChild(server.url, origin.rootPath, {
      serveFeed: true,
      feedRequiresLicence: false,
    });
    await syncOf(core).runOnce();
    const { manifest } = await readCurrent(origin.tree);
    const kept = join(core.dataDir, "sync", "feed", manifest.snapshot.name);
    await Deno.writeFile(kept, flipByte(await Deno.readFile(kept)));
    await using edge = await startChild(`${core.url}/feed/`, origin.rootPath);
    await failsWith(syncOf(edge).runOnce(), "hash_mismatch");

    await origin.setRecords(fileRecords(200, "phishing"));
    await origin.publish(); // a delta; the manifest still names snapshot 1
    await syncOf(core).runOnce();
    assert.equal((await syncOf(edge).runOnce()).to, 2);
    await assertServes(edge, 2, md5Of(3), "phishing");
  },
});

Deno.test("a 429 or 503 fails the run as busy and carries the Retry-After", async () => {
  await using f = await childAtVersion1();
  const { server, child } = f;
  server.tamper = (name) =>
    name === "timestamp.json"
      ? new Response("slow down", { status: 429, headers: { "Retry-After": "120" } })
      : undefined;
  const busy = await failsWith(syncOf(child).runOnce(), "busy");
  assert.equal(busy.retryAfterSeconds, 120);

  // An HTTP date, read against the node's clock.
  const at = new Date(T0 + 300_000).toUTCString();
  server.tamper = (name) =>
    name === "timestamp.json"
      ? new Response("down", { status: 503, headers: { "Retry-After": at } })
      : undefined;
  assert.equal((await failsWith(syncOf(child).runOnce(), "busy")).retryAfterSeconds, 300);

  await assertServes(child, 1, md5Of(3), "malicious");
  logLine(
    child,
    /Sync failed \(busy\); still serving mirror version 1/,
    /answered 429; trying again later/,
  );
  logLine(child, /Sync failed \(busy\)/, /answered 503/);
  await assertMetrics(
    child,
    'pksn_sync_failures_total{reason="busy"} 2',
    "pksn_sync_consecutive_failures 2",
  );
});

Deno.test("after a 429 the service schedules its next poll no sooner than Retry-After", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(20));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  server.tamper = (name) =>
    name === "timestamp.json"
      ? new Response("slow down", { status: 429, headers: { "Retry-After": "120" } })
      : undefined;
  // The service schedules with setTimeout; watch the delays it asks for.
  const delays: number[] = [];
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((handler: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return original(handler, ms);
  }) as typeof setTimeout;
  try {
    // The first poll comes at once; the back-off after one failure would be about 30 s.
    await using child = await startChild(server.url, origin.rootPath, { firstPollMaxSeconds: 0 });
    for (let i = 0; i < 200 && !delays.includes(120_000); i++) {
      await new Promise((resolve) => original(resolve, 10));
    }
    assert.ok(delays.includes(120_000), `scheduled delays: ${delays.join(", ")}`);
    logLine(child, /Sync failed \(busy\)/);
    await assertMetrics(child, 'pksn_sync_failures_total{reason="busy"} 1');
  } finally {
    globalThis.setTimeout = original;
  }
});

Deno.test("nextPollSeconds: jittered interval, capped back-off, never before minPoll or Retry-After", () => {
  const input: ScheduleInput = {
    intervalSeconds: 3600,
    jitter: 0.1,
    maxBackoffSeconds: 1800,
    consecutiveFailures: 0,
    minPollSeconds: 0,
    retryAfterSeconds: null,
  };
  const low = (): number => 0;
  const mid = (): number => 0.5;
  const high = (): number => 0.999;
  assert.equal(nextPollSeconds(input, low), 3240);
  assert.equal(nextPollSeconds(input, mid), 3600);
  const top = nextPollSeconds(input, high);
  assert.ok(top > 3950 && top < 3960, String(top));

  const backoff = [1, 2, 3, 4, 5, 6, 7, 8, 40].map((n) =>
    nextPollSeconds({ ...input, consecutiveFailures: n }, mid)
  );
  assert.deepEqual(backoff, [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
  // Jitter still spreads a fleet that sits at the cap.
  assert.equal(nextPollSeconds({ ...input, consecutiveFailures: 40 }, low), 1620);
  assert.ok(nextPollSeconds({ ...input, consecutiveFailures: 40 }, high) <= 1800 * 1.1);
  // The back-off starts at the interval when that is shorter than 30 s.
  assert.equal(nextPollSeconds({ ...input, intervalSeconds: 10, consecutiveFailures: 3 }, mid), 40);

  assert.equal(nextPollSeconds({ ...input, minPollSeconds: 7200 }, high), 7200);
  assert.equal(
    nextPollSeconds({ ...input, consecutiveFailures: 1, retryAfterSeconds: 600 }, high),
    600,
  );
  assert.equal(nextPollSeconds({ ...input, retryAfterSeconds: 5 }, mid), 3600, "never sooner");
});

Deno.test("a child follows a root rotation and then refuses a timestamp signed by the retired key", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(200));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  // The child ships root version 1, which root.json stops being after the rotation.
  await using child = await startChild(server.url, join(origin.tree, "root.1.json"));
  await syncOf(child).runOnce();

  const newKey = await parseKeyFile(JSON.stringify(await generateKeyFile()), "new key");
  await rotateRoot(origin.tree, {
    oldSigners: [origin.key],
    newSigners: [newKey],
    rootThreshold: 1,
    timestampRole: { keys: [newKey], threshold: 1 },
    expires: T0 + 365 * 86_400_000,
  });
  await origin.setRecords(fileRecords(200, "phishing"));
  const publishWith = (key: typeof newKey): Promise<unknown> =>
    buildVersion({
      out: origin.tree,
      state: origin.state,
      source: origin.source,
      timestampKeys: [key],
      now: T0,
      snapshotEvery: 10,
      deltaRetentionSeconds: 7 * 86_400,
      expiresSeconds: 86_400,
      minPollSeconds: 0,
    });
  await publishWith(newKey);

  const result = await syncOf(child).runOnce();
  assert.equal(result.to, 2);
  assert.deepEqual(result.via, ["delta"]);
  logLine(child, /Root keys rotated to version 2/);
  const stored = JSON.parse(await Deno.readTextFile(join(child.dataDir, "sync", "root.json")));
  assert.equal(stored.signed.version, 2);
  await assertServes(child, 2, md5Of(3), "phishing");

  // Version 3, but its timestamp signed with the key root version 2 retired.
  await origin.setRecords(fileRecords(200, "adware"));
  await publishWith(newKey);
  await writeTimestamp(origin.tree, (await readCurrent(origin.tree)).timestamp, origin.key);
  const err = await failsWith(syncOf(child).runOnce(), "bad_signature");
  assert.match(err.message, /0 valid timestamp signature\(s\) of root version 2; 1 needed/);
  await assertServes(child, 2, md5Of(3), "phishing");
  logLine(child, /Sync failed \(bad_signature\); still serving mirror version 2/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="bad_signature"} 1');
});

/**
 * Faults in getting a feed file: a download that breaks off, a byte flipped on
 * the way or at a middle tier, a file longer or shorter than signed, an
 * oversized timestamp.json and a busy server. In each the child must refuse
 * what it cannot trust, keep serving the version it has, say so in one log line
 * and count it in /metrics.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { nextPollSeconds, type ScheduleInput } from "../../src/mirror/schedule.ts";
import type { TestNode } from "../_helpers.ts";
import {
  FeedServer,
  fileRecords,
  md5Of,
  startChild,
  startFollowing,
  startThreeTiers,
  syncOf,
  T0,
  type Tamper,
  TestOrigin,
} from "./_feed.ts";
import {
  answerFor,
  assertMetrics,
  assertServes,
  childAtVersion1,
  failsWith,
  flipByte,
  logLine,
  readCurrent,
  serveBytes,
} from "./_faults.ts";

const SNAPSHOT = /^snapshots\//;
const DELTA = /^deltas\//;

/** Serves the files `pattern` names with one byte flipped (at `at`, the middle by default). */
function flipped(tree: string, pattern: RegExp, at?: number): Tamper {
  return answerFor(
    pattern,
    (name, req) => serveBytes(flipByte(Deno.readFileSync(join(tree, name)), at), req),
  );
}

/** Flips a byte of the snapshot in the copy of the feed that `core` serves. */
async function damageServedSnapshot(core: TestNode, tree: string): Promise<void> {
  const { manifest } = await readCurrent(tree);
  const kept = join(core.dataDir, "sync", "feed", manifest.snapshot.name);
  await Deno.writeFile(kept, flipByte(await Deno.readFile(kept)));
}

/** Answers `status` with a Retry-After of `retryAfter` for timestamp.json. */
function busy(status: number, retryAfter: string): Tamper {
  return answerFor(
    "timestamp.json",
    () => new Response("slow down", { status, headers: { "Retry-After": retryAfter } }),
  );
}

Deno.test("a download that breaks off half-way resumes with a Range request in the same run", async () => {
  await using f = await startFollowing(fileRecords(20_000));
  const { origin, server, child } = f;
  const { manifest } = await readCurrent(origin.tree);
  const half = manifest.snapshot.length >> 1;
  assert.ok(half > 100_000, `a big snapshot (${manifest.snapshot.length} bytes)`);
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
  await origin.publishRecords(fileRecords(200, "phishing"));
  server.tamper = flipped(origin.tree, DELTA);

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
  await using f = await startFollowing();
  const { origin, server, child } = f;
  server.tamper = flipped(origin.tree, SNAPSHOT, 10);

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
  await origin.publishRecords(fileRecords(200, "phishing"));
  const delta = (await readCurrent(origin.tree)).manifest.deltas.at(-1)!;
  const bytes = await Deno.readFile(join(origin.tree, delta.name));

  const longer = new Uint8Array(bytes.length + 4096);
  longer.set(bytes);
  server.tamper = answerFor(delta.name, (_, req) => serveBytes(longer, req));
  const long = await failsWith(syncOf(child).runOnce(), "wrong_length");
  assert.match(long.message, /is longer than its signed length of \d+ bytes; cut off and refused/);
  await assertServes(child, 1, md5Of(3), "malicious");
  logLine(child, /Sync failed \(wrong_length\)/, /longer than its signed length/);

  // A server that keeps serving a short file: the resume finds nothing more.
  const shorter = bytes.slice(0, bytes.length - 7);
  server.tamper = answerFor(delta.name, (_, req) => serveBytes(shorter, req));
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

Deno.test("an oversized timestamp.json is cut off with too_large without reading it all", async () => {
  await using f = await childAtVersion1();
  const { server, child } = f;
  const MiB = 1024 * 1024;
  // No Content-Length, and a body that trickles on for a MiB (slowly, so that
  // loopback buffers cannot swallow it all before the client decides).
  let sent = 0;
  server.tamper = answerFor("timestamp.json", () => {
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
  });
  const cut = await failsWith(syncOf(child).runOnce(), "too_large");
  assert.match(cut.message, /"timestamp\.json" is larger than 65536 bytes; cut off and refused/);
  assert.ok(sent <= MiB / 4, `the server sent ${sent} bytes before the client hung up`);

  // A declared Content-Length over the cap is refused before the body is read.
  server.tamper = answerFor("timestamp.json", () => new Response(new Uint8Array(MiB)));
  const declared = await failsWith(syncOf(child).runOnce(), "too_large");
  assert.match(declared.message, /is 1048576 bytes; at most 65536 are accepted/);

  await assertServes(child, 1, md5Of(3), "malicious");
  logLine(child, /Sync failed \(too_large\); still serving mirror version 1/, /cut off/);
  await assertMetrics(child, 'pksn_sync_failures_total{reason="too_large"} 2');
});

Deno.test("a file altered at the middle tier is refused at the edge with hash_mismatch", async () => {
  await using tiers = await startThreeTiers(fileRecords(200));
  const { origin, core, edge } = tiers;
  await damageServedSnapshot(core, origin.tree);

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
    await using tiers = await startThreeTiers(fileRecords(200));
    const { origin, core, edge } = tiers;
    await damageServedSnapshot(core, origin.tree);
    await failsWith(syncOf(edge).runOnce(), "hash_mismatch");

    // A delta; the manifest still names snapshot 1.
    await origin.publishRecords(fileRecords(200, "phishing"));
    await syncOf(core).runOnce();
    assert.equal((await syncOf(edge).runOnce()).to, 2);
    await assertServes(edge, 2, md5Of(3), "phishing");
  },
});

Deno.test("a 429 or 503 fails the run as busy and carries the Retry-After", async () => {
  await using f = await childAtVersion1();
  const { server, child } = f;
  server.tamper = busy(429, "120");
  const err = await failsWith(syncOf(child).runOnce(), "busy");
  assert.equal(err.retryAfterSeconds, 120);

  // An HTTP date, read against the node's clock.
  server.tamper = busy(503, new Date(T0 + 300_000).toUTCString());
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
  await using origin = await TestOrigin.atVersion1(fileRecords(20));
  await using server = new FeedServer(origin.tree);
  server.tamper = busy(429, "120");
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

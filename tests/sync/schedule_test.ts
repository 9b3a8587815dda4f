/**
 * When a node polls its feed (interval with jitter, back-off after failures, the
 * publisher's minimum and Retry-After respected), how fresh its mirror is, and
 * a serving node that syncs by itself after start.
 */
import assert from "node:assert/strict";
import { type Freshness, freshnessOf, mirrorModeFor } from "../../src/mirror/freshness.ts";
import { type MirrorState, readMirrorState, type SyncStatus } from "../../src/feed/mirror_state.ts";
import {
  firstPollSeconds,
  nextPollSeconds,
  type ScheduleInput,
} from "../../src/mirror/schedule.ts";
import { fileRecords, md5Of, startFollowing, T0, verdictOf } from "./_feed.ts";

const LOW = (): number => 0;
const HIGH = (): number => 0.999;
const MID = (): number => 0.5;

function input(over: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    intervalSeconds: 900,
    jitter: 0.1,
    maxBackoffSeconds: 3600,
    consecutiveFailures: 0,
    minPollSeconds: 0,
    retryAfterSeconds: null,
    ...over,
  };
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is ${expected}`);
}

Deno.test("nextPollSeconds after a success is the interval spread by ±jitter", () => {
  close(nextPollSeconds(input(), LOW), 810, "random 0");
  close(nextPollSeconds(input(), MID), 900, "random 0.5");
  close(nextPollSeconds(input(), HIGH), 900 * (1 + 0.1 * 0.998), "random 0.999");
  assert.ok(nextPollSeconds(input(), HIGH) < 990, "below interval × (1 + jitter)");
  close(nextPollSeconds(input({ jitter: 0.5 }), LOW), 450, "jitter 0.5, random 0");
  close(nextPollSeconds(input({ jitter: 0 }), HIGH), 900, "no jitter");
});

Deno.test("nextPollSeconds backs off exponentially from 30 s after failures", () => {
  const waits = [1, 2, 3, 4, 5].map((n) =>
    nextPollSeconds(input({ jitter: 0, consecutiveFailures: n }), MID)
  );
  assert.deepEqual(waits, [30, 60, 120, 240, 480]);
  close(nextPollSeconds(input({ consecutiveFailures: 2 }), LOW), 54, "jitter spreads back-off");
});

Deno.test("nextPollSeconds backs off from the interval when it is under 30 s", () => {
  const waits = [1, 2, 3].map((n) =>
    nextPollSeconds(input({ intervalSeconds: 10, jitter: 0, consecutiveFailures: n }), MID)
  );
  assert.deepEqual(waits, [10, 20, 40]);
});

Deno.test("nextPollSeconds caps the back-off at maxBackoffSeconds, then spreads it", () => {
  for (const failures of [8, 9, 31, 1000, 1e9]) {
    assert.equal(
      nextPollSeconds(input({ jitter: 0, consecutiveFailures: failures }), MID),
      3600,
      `${failures} failures`,
    );
  }
  // The jitter applies after the cap, so a fleet at the cap does not poll in step.
  close(nextPollSeconds(input({ consecutiveFailures: 50 }), LOW), 3240, "cap, random 0");
  close(
    nextPollSeconds(input({ consecutiveFailures: 50 }), HIGH),
    3600 * (1 + 0.1 * 0.998),
    "cap, random 0.999",
  );
  assert.equal(
    nextPollSeconds(input({ jitter: 0, consecutiveFailures: 3, maxBackoffSeconds: 100 }), MID),
    100,
  );
});

Deno.test("nextPollSeconds never polls sooner than the publisher's minPollSeconds", () => {
  assert.equal(nextPollSeconds(input({ intervalSeconds: 60, minPollSeconds: 300 }), LOW), 300);
  assert.equal(nextPollSeconds(input({ consecutiveFailures: 1, minPollSeconds: 300 }), HIGH), 300);
  close(
    nextPollSeconds(input({ minPollSeconds: 10 }), LOW),
    810,
    "a smaller minimum changes nothing",
  );
});

Deno.test("nextPollSeconds waits at least a failed answer's Retry-After", () => {
  assert.equal(
    nextPollSeconds(input({ consecutiveFailures: 1, retryAfterSeconds: 120 }), HIGH),
    120,
  );
  assert.equal(
    nextPollSeconds(input({ consecutiveFailures: 1, retryAfterSeconds: 7200 }), LOW),
    7200,
    "even beyond the back-off cap",
  );
  close(
    nextPollSeconds(input({ consecutiveFailures: 3, retryAfterSeconds: 5 }), LOW),
    108,
    "a shorter Retry-After changes nothing",
  );
  assert.equal(
    nextPollSeconds(
      input({ consecutiveFailures: 1, minPollSeconds: 90, retryAfterSeconds: 60 }),
      LOW,
    ),
    90,
    "the larger of the two wins",
  );
});

Deno.test("firstPollSeconds spreads the first poll over [0, firstPollMaxSeconds)", () => {
  assert.equal(firstPollSeconds(30, LOW), 0);
  close(firstPollSeconds(30, HIGH), 29.97, "random 0.999");
  assert.ok(firstPollSeconds(30, HIGH) < 30);
  assert.equal(firstPollSeconds(0, HIGH), 0, "firstPollMaxSeconds 0 polls at once");
});

const DAY = 86_400_000;
const synced: MirrorState = { version: 4, checksum: "0123456789abcdef", expires: T0 + DAY };
const status: SyncStatus = {
  seenVersion: 4,
  upstreamVersion: 4,
  lastAttempt: T0,
  lastSuccess: T0,
  consecutiveFailures: 0,
  lastError: null,
};

Deno.test("freshnessOf: unsynced before the first version, whatever the status says", () => {
  assert.equal(freshnessOf({ ...synced, version: 0 }, status, T0, 3600), "unsynced");
  assert.equal(
    freshnessOf({ ...synced, version: 0 }, { ...status, lastSuccess: null }, T0 + 2 * DAY, 3600),
    "unsynced",
  );
});

Deno.test("freshnessOf: fresh until staleAfterSeconds without a successful check, then stale", () => {
  assert.equal(freshnessOf(synced, status, T0, 3600), "fresh");
  assert.equal(freshnessOf(synced, status, T0 + 3600_000, 3600), "fresh", "at the limit");
  assert.equal(freshnessOf(synced, status, T0 + 3600_001, 3600), "stale");
  assert.equal(freshnessOf(synced, { ...status, lastSuccess: null }, T0, 3600), "stale");
});

Deno.test("freshnessOf: frozen from the signed expiry on, stale or not", () => {
  assert.equal(freshnessOf(synced, status, T0 + DAY - 1, 3 * DAY), "fresh");
  assert.equal(freshnessOf(synced, status, T0 + DAY, 3 * DAY), "frozen", "at the expiry");
  assert.equal(freshnessOf(synced, status, T0 + 2 * DAY, 3600), "frozen");
  assert.equal(
    freshnessOf({ ...synced, expires: null }, status, T0 + 365 * DAY, 10 * 366 * 86_400),
    "fresh",
    "no signed expiry never freezes",
  );
});

Deno.test("mirrorModeFor: only a frozen mirror changes how look-ups use it", () => {
  const all: Freshness[] = ["unsynced", "fresh", "stale", "frozen"];
  assert.deepEqual(all.map((f) => mirrorModeFor(f, "serve-stale")), [
    "current",
    "current",
    "current",
    "stale",
  ]);
  assert.deepEqual(all.map((f) => mirrorModeFor(f, "unknown")), [
    "current",
    "current",
    "current",
    "off",
  ]);
});

Deno.test("a serving node with firstPollMaxSeconds 0 syncs by itself soon after start", async () => {
  // The node runs on a fake clock; the schedule runs on real timers.
  await using f = await startFollowing(fileRecords(100), {
    firstPollMaxSeconds: 0,
    intervalSeconds: 3600,
  });
  const { server, child } = f;
  const deadline = Date.now() + 5000;
  const until = async (what: string, done: () => boolean): Promise<void> => {
    while (!done()) {
      assert.ok(Date.now() < deadline, `${what} within 5 s:\n${child.logLines.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  await until("mirror at version 1", () => readMirrorState(child.serving.node.db).version === 1);
  await until("run finished", () => child.logLines.some((l) => l.includes("Synced mirror")));
  assert.equal(server.count("timestamp.json"), 1, "one poll, the next an interval away");
  assert.equal((await verdictOf(child, md5Of(42))).verdict, "malicious");
});

/** A day that cannot be packed: start-up goes on, the other days are packed, the timer retries. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { archiveFile, dayFile, readManifest } from "../../src/stats/mod.ts";
import { DAY_MS, detectedBefore, noon, openTestStats, record, type TestStats } from "./_stats.ts";

const OLD = "2026-11-01";
const DAYS = ["2026-11-05", "2026-11-06", "2026-11-07"];
const BLOCKED = DAYS[1];
const TODAY = "2026-11-08";

/** Statistics with an archive of OLD (and an idempotency key from then) and day files of DAYS. */
async function withPastDays(): Promise<TestStats> {
  const t = await openTestStats({ start: noon(OLD), config: { retentionDays: 3 } });
  await t.stats.ingest.accept(1, [record({ detectedAt: detectedBefore(noon(OLD)) })], "old-key");
  t.clock.set(noon("2026-11-02"));
  await t.stats.rollover.run();
  for (const date of DAYS) {
    t.clock.set(noon(date));
    await t.stats.ingest.accept(1, [record({ detectedAt: detectedBefore(noon(date)) })]);
  }
  return t;
}

/** A folder where the day's temporary archive should go, with a file in it so it stays. */
async function blockArchive(t: TestStats, date: string): Promise<string> {
  const blocker = `${archiveFile(t.stats.dir, date)}.tmp`;
  await Deno.mkdir(blocker);
  await Deno.writeTextFile(join(blocker, "in-the-way"), "x");
  return blocker;
}

function errors(t: TestStats): string[] {
  return t.logLines.filter((l) => l.includes(" ERROR "));
}

Deno.test("a start-up with a day that cannot be packed still opens and packs the other days", async () => {
  await using t = await withPastDays();
  await blockArchive(t, BLOCKED);
  t.clock.set(noon(TODAY));
  await t.reopen();

  for (const date of [DAYS[0], DAYS[2]]) {
    assert.equal((await readManifest(archiveFile(t.stats.dir, date))).records, 1, date);
    await assert.rejects(Deno.stat(dayFile(t.stats.dir, date)), Deno.errors.NotFound);
  }
  assert.ok((await Deno.stat(dayFile(t.stats.dir, BLOCKED))).isFile, "the blocked day waits");
  await assert.rejects(Deno.stat(archiveFile(t.stats.dir, BLOCKED)), Deno.errors.NotFound);
  assert.equal(t.stats.metrics.archives.get(), 2);
});

Deno.test("a day that cannot be packed is logged once with its date and what to check", async () => {
  await using t = await withPastDays();
  await blockArchive(t, BLOCKED);
  t.clock.set(noon(TODAY));
  await t.reopen();

  assert.equal(errors(t).length, 1, errors(t).join("\n"));
  assert.match(
    errors(t)[0],
    new RegExp(
      `Cannot pack statistics of ${BLOCKED}, will retry within a minute: .+; ` +
        `check free space and the permissions of "${t.stats.dir}"$`,
    ),
  );
});

Deno.test("retention and idempotency-key pruning still run when a day cannot be packed", async () => {
  await using t = await withPastDays();
  await blockArchive(t, BLOCKED);
  t.clock.set(noon(TODAY));
  await t.reopen();

  await assert.rejects(Deno.stat(archiveFile(t.stats.dir, OLD)), Deno.errors.NotFound);
  assert.equal(t.stats.metrics.retained.get("days"), 1);
  const keys = t.db.prepare("SELECT count(*) AS n FROM stats_received").get() as { n: number };
  assert.equal(Number(keys.n), 0, "the key from OLD is forgotten");
});

Deno.test("a damaged archive is named in the log with the advice to move it aside", async () => {
  await using t = await withPastDays();
  // An archive with no readable manifest: packing the day into it cannot go on.
  const damaged = archiveFile(t.stats.dir, BLOCKED);
  await Deno.writeFile(damaged, new Uint8Array(0));
  t.clock.set(noon(TODAY));
  const report = await t.stats.rollover.run();

  assert.deepEqual(report.packed, [DAYS[0], DAYS[2]]);
  assert.deepEqual(report.failed, [BLOCKED]);
  assert.equal(errors(t).length, 1, errors(t).join("\n"));
  const line = errors(t)[0];
  assert.match(
    line,
    new RegExp(`Cannot pack statistics of ${BLOCKED}, will retry within a minute`),
  );
  assert.ok(line.includes(`move the damaged archive "${damaged}" aside`), line);
  assert.ok(!line.includes("free space"), line);
});

Deno.test("the timer packs a day that failed at start once it can, before the date changes", async () => {
  await using t = await withPastDays();
  const blocker = await blockArchive(t, BLOCKED);
  t.clock.set(noon(TODAY));
  await t.reopen();
  await Deno.remove(blocker, { recursive: true });

  // Just before midnight, so the first tick comes at once; the date is still TODAY then.
  t.clock.set(noon(TODAY) + DAY_MS / 2 - 100);
  t.stats.rollover.start();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      await Deno.stat(archiveFile(t.stats.dir, BLOCKED));
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  await t.stats.rollover.stop();
  assert.equal((await readManifest(archiveFile(t.stats.dir, BLOCKED))).records, 1);
  await assert.rejects(Deno.stat(dayFile(t.stats.dir, BLOCKED)), Deno.errors.NotFound);
});

import assert from "node:assert/strict";
import { applyRetention, archiveFile } from "../../src/stats/mod.ts";
import { tempDir } from "../_helpers.ts";
import { detectedBefore, noon, openTestStats, record } from "./_stats.ts";

async function fakeArchives(dir: string, sizes: Record<string, number>): Promise<void> {
  await Deno.mkdir(`${dir}/archive`, { recursive: true });
  for (const [date, size] of Object.entries(sizes)) {
    await Deno.writeFile(archiveFile(dir, date), new Uint8Array(size));
  }
}

async function archives(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/archive`)) names.push(entry.name);
  return names.sort();
}

Deno.test("retention removes archives older than retentionDays", async () => {
  await using dir = await tempDir();
  await fakeArchives(dir.path, { "2026-11-01": 10, "2026-11-02": 10, "2026-11-27": 10 });
  const removed = await applyRetention(dir.path, "2026-11-28", { days: 26, bytes: 1e9 });
  assert.deepEqual(removed, [{ date: "2026-11-01", bytes: 10, reason: "days" }]);
  assert.deepEqual(await archives(dir.path), ["2026-11-02.tar", "2026-11-27.tar"]);
});

Deno.test("retention removes the oldest archives until the rest fit in retentionBytes", async () => {
  await using dir = await tempDir();
  await fakeArchives(dir.path, {
    "2026-11-20": 400,
    "2026-11-21": 300,
    "2026-11-22": 200,
    "2026-11-23": 100,
  });
  const removed = await applyRetention(dir.path, "2026-11-28", { days: 365, bytes: 350 });
  assert.deepEqual(removed.map((r) => [r.date, r.reason]), [
    ["2026-11-20", "bytes"],
    ["2026-11-21", "bytes"],
  ]);
  assert.deepEqual(await archives(dir.path), ["2026-11-22.tar", "2026-11-23.tar"]);
});

Deno.test("the rollover applies retention by days to real archives", async () => {
  await using t = await openTestStats({ start: noon("2026-11-01"), config: { retentionDays: 2 } });
  for (const date of ["2026-11-01", "2026-11-02", "2026-11-03"]) {
    t.clock.set(noon(date));
    await t.stats.ingest.accept(1, [record({ detectedAt: detectedBefore(noon(date)) })]);
  }
  t.clock.set(noon("2026-11-05"));
  const report = await t.stats.rollover.run();
  assert.deepEqual(report.packed, ["2026-11-01", "2026-11-02", "2026-11-03"]);
  assert.deepEqual(report.removed.map((r) => r.date), ["2026-11-01", "2026-11-02"]);
  assert.deepEqual(await archives(t.stats.dir), ["2026-11-03.tar"]);
  assert.equal(t.stats.metrics.retained.get("days"), 2);
});

import assert from "node:assert/strict";
import { dayFile } from "../../src/stats/mod.ts";
import { DAY1, dayRecords, openTestStats, record } from "./_stats.ts";

Deno.test("concurrent batches are written whole, never interleaved line by line", async () => {
  await using t = await openTestStats();
  const batches = Array.from(
    { length: 40 },
    (_, b) => Array.from({ length: 50 }, (_, i) => record({ size: b * 1000 + i })),
  );
  const results = await Promise.all(batches.map((batch) => t.stats.ingest.accept(1, batch)));
  assert.ok(results.every((r) => r.accepted === 50));
  const sizes = (await dayRecords(t.dataDir, DAY1)).map((r) => r.size as number);
  assert.equal(sizes.length, 2000);
  for (let at = 0; at < sizes.length; at += 50) {
    const batch = Math.floor(sizes[at] / 1000);
    const run = sizes.slice(at, at + 50);
    assert.deepEqual(
      run,
      Array.from({ length: 50 }, (_, i) => batch * 1000 + i),
      "one batch, in order",
    );
  }
});

Deno.test("a torn last line is cut off at start, logged and counted, never kept", async () => {
  await using t = await openTestStats();
  await t.stats.ingest.accept(1, [record(), record({ verdict: "clean" })]);
  const path = dayFile(t.stats.dir, DAY1);
  const whole = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, '{"detectedAt":"2026-11-28T11:59:00Z","detectionT', {
    append: true,
  });
  const stats = await t.reopen();
  assert.equal(await Deno.readTextFile(path), whole);
  assert.equal(stats.metrics.tornLines.get(), 1);
  assert.ok(
    t.logLines.some((l) =>
      l.includes("Repaired a torn last line") && l.includes("removedBytes=48")
    ),
    t.logLines.join("\n"),
  );
  await stats.ingest.accept(1, [record({ verdict: "adware" })]);
  assert.deepEqual((await dayRecords(t.dataDir, DAY1)).map((r) => r.verdict), [
    "malicious",
    "clean",
    "adware",
  ]);
});

Deno.test("a day file holding only a torn line is emptied at start", async () => {
  await using t = await openTestStats();
  const path = dayFile(t.stats.dir, DAY1);
  await Deno.writeTextFile(path, '{"detectedAt":');
  await t.reopen();
  assert.equal(await Deno.readTextFile(path), "");
});

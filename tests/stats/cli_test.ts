import assert from "node:assert/strict";
import { join } from "node:path";
import { dayFile } from "../../src/stats/mod.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { noon, openTestStats, record } from "./_stats.ts";

const DAY1 = "2026-11-28";
const DAY2 = "2026-11-29";

/** A data folder with DAY1 packed (3 records) and DAY2 still open (2 records). */
async function seeded(dataDir: string): Promise<{ day1: Uint8Array; day2: Uint8Array }> {
  await using t = await openTestStats({ start: noon(DAY1), dataDir });
  await t.stats.ingest.accept(1, [
    record(),
    record({ verdict: "adware", threat: "Adware.Win32.Toolbar" }),
    record(),
  ]);
  const day1 = await Deno.readFile(dayFile(t.stats.dir, DAY1));
  t.clock.set(noon(DAY2));
  await t.stats.ingest.accept(1, [record({ verdict: "phishing", threat: "Phish.Bank" }), record()]);
  await t.stats.rollover.run();
  return { day1, day2: await Deno.readFile(dayFile(t.stats.dir, DAY2)) };
}

Deno.test("pksn stats list shows each day's record count and whether it is packed", async () => {
  await using dir = await tempDir();
  await seeded(dir.path);
  const json = await runCli(["stats", "list", "--data", dir.path, "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const days = JSON.parse(json.stdout).days;
  assert.deepEqual(
    days.map((d: { date: string; records: number; archived: boolean }) => [
      d.date,
      d.records,
      d.archived,
    ]),
    [[DAY1, 3, true], [DAY2, 2, false]],
  );
  const text = await runCli(["stats", "list", "--data", dir.path]);
  assert.match(text.stdout, /^2026-11-28 +3 records +archived\n2026-11-29 +2 records +open\n$/);
});

Deno.test("pksn stats show counts a day's records by verdict and threat", async () => {
  await using dir = await tempDir();
  await seeded(dir.path);
  const [packed, open] = await Promise.all([
    runCli(["stats", "show", DAY1, "--data", dir.path, "--json"]),
    runCli(["stats", "show", DAY2, "--data", dir.path]),
  ]);
  assert.equal(packed.code, 0, packed.stderr);
  const day = JSON.parse(packed.stdout);
  assert.equal(day.records, 3);
  assert.equal(day.archived, true);
  assert.deepEqual(day.verdicts, { malicious: 2, adware: 1 });
  assert.deepEqual(day.threats, { "Trojan.Win32.Example.a": 2, "Adware.Win32.Toolbar": 1 });
  assert.match(day.sha256, /^[0-9a-f]{64}$/);
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.stdout, /^2026-11-29: 2 records, open\n/);
  assert.match(open.stdout, /By threat:\n +1 +Phish\.Bank\n +1 +Trojan\.Win32\.Example\.a\n/);
});

Deno.test("pksn stats export writes a day's NDJSON byte for byte, packed or open", async () => {
  await using dir = await tempDir();
  const { day1, day2 } = await seeded(dir.path);
  const out = join(dir.path, "day1.ndjson");
  const [toFile, toStdout] = await Promise.all([
    runCli(["stats", "export", DAY1, "--out", out, "--data", dir.path]),
    runCli(["stats", "export", DAY2, "--data", dir.path]),
  ]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout, "");
  assert.deepEqual(await Deno.readFile(out), day1);
  assert.equal(toStdout.code, 0, toStdout.stderr);
  assert.equal(toStdout.stdout, new TextDecoder().decode(day2));
});

Deno.test("pksn stats export --out leaves an existing FILE untouched when the day is missing", async () => {
  await using dir = await tempDir();
  await seeded(dir.path);
  const out = join(dir.path, "keep.ndjson");
  await Deno.writeTextFile(out, "earlier export\n");
  const result = await runCli(["stats", "export", "2020-01-01", "--out", out, "--data", dir.path]);
  assert.notEqual(result.code, 0);
  assert.equal(await Deno.readTextFile(out), "earlier export\n");
  assert.equal(await Deno.stat(`${out}.tmp`).then(() => true, () => false), false);
});

Deno.test("pksn stats refuses an unknown day with exit 1 and a bad date with exit 2", async () => {
  await using dir = await tempDir();
  const [unknown, bad] = await Promise.all([
    runCli(["stats", "show", "2026-01-01", "--data", dir.path]),
    runCli(["stats", "export", "2026-13-01", "--data", dir.path]),
  ]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'pksn: No statistics for "2026-01-01"\n');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'pksn: Invalid date "2026-13-01": expected YYYY-MM-DD\n');
});

Deno.test("pksn stats show lists the 1,000 most frequent threats and sums up the rest in one line", async () => {
  await using dir = await tempDir();
  const stats = join(dir.path, "stats");
  await Deno.mkdir(stats);
  const lines = Array.from(
    { length: 1_003 },
    (_, i) =>
      JSON.stringify({ ...record({ threat: `T.${String(i).padStart(4, "0")}` }), receivedAt: "" }),
  );
  await Deno.writeTextFile(dayFile(stats, DAY1), lines.join("\n") + "\n");
  const shown = await runCli(["stats", "show", DAY1, "--data", dir.path]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, / +1 +T\.0999\n +3 +\(3 other threats\)\n$/);
  assert.doesNotMatch(shown.stdout, /T\.1000/);
});

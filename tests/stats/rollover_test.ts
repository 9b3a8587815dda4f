import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { archiveFile, dayFile, exportDay, readManifest } from "../../src/stats/mod.ts";
import { runTool } from "../_helpers.ts";
import { DAY_MS, extractWithTar, noon, openTestStats, readWithPython, record } from "./_stats.ts";

const DAY1 = "2026-11-28";
const DAY2 = "2026-11-29";
const DAY3 = "2026-11-30";

Deno.test("the date change packs each past day into its own TAR that tar and Python read", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record(), record({ verdict: "adware", threat: "Adware.X" })]);
  t.clock.set(noon(DAY2));
  await t.stats.ingest.accept(1, [record({ verdict: "clean", threat: undefined })]);
  const before: Record<string, Uint8Array> = {
    [DAY1]: await Deno.readFile(dayFile(t.stats.dir, DAY1)),
    [DAY2]: await Deno.readFile(dayFile(t.stats.dir, DAY2)),
  };
  t.clock.set(noon(DAY3));
  const report = await t.stats.rollover.run();
  assert.deepEqual(report.packed, [DAY1, DAY2]);

  for (const date of [DAY1, DAY2]) {
    const tarPath = archiveFile(t.stats.dir, date);
    await assert.rejects(Deno.stat(dayFile(t.stats.dir, date)), Deno.errors.NotFound);
    const listed = await runTool("tar", ["-tf", tarPath]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split("\n"), ["manifest.json", `${date}.ndjson`]);
    await using out = await extractWithTar(tarPath);
    assert.deepEqual(await Deno.readFile(join(out.path, `${date}.ndjson`)), before[date]);
    const manifest = JSON.parse(await Deno.readTextFile(join(out.path, "manifest.json")));
    assert.equal(manifest.date, date);
    assert.equal(manifest.sha256, createHash("sha256").update(before[date]).digest("hex"));
    assert.equal(manifest.bytes, before[date].length);

    const seen = await readWithPython<{ names: string[]; records: number; lines: string[] }>(
      tarPath,
      date,
      "print(json.dumps({'names':t.getnames(),'records':m['records'],'lines':[json.loads(l)['verdict'] for l in lines]}))",
    );
    assert.deepEqual(seen.names, ["manifest.json", `${date}.ndjson`]);
    assert.equal(seen.records, seen.lines.length);
  }
  const day1 = await readManifest(archiveFile(t.stats.dir, DAY1));
  assert.equal(day1.records, 2);
  assert.deepEqual(day1.verdicts, { adware: 1, malicious: 1 });
  assert.deepEqual(day1.threats, { "Adware.X": 1, "Trojan.Win32.Example.a": 1 });
  const day2 = await readManifest(archiveFile(t.stats.dir, DAY2));
  assert.deepEqual({ records: day2.records, verdicts: day2.verdicts, threats: day2.threats }, {
    records: 1,
    verdicts: { clean: 1 },
    threats: {},
  });
});

Deno.test("a day file left from an earlier run is packed at start, today's is not", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record()]);
  t.clock.set(noon(DAY2));
  await t.stats.ingest.accept(1, [record()]);
  await t.reopen();
  assert.equal((await readManifest(archiveFile(t.stats.dir, DAY1))).records, 1);
  assert.ok((await Deno.stat(dayFile(t.stats.dir, DAY2))).isFile, "today's file stays open");
});

Deno.test("a crash after the archive was renamed leaves one archive and no day file", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record(), record()]);
  const lines = await Deno.readFile(dayFile(t.stats.dir, DAY1));
  t.clock.set(noon(DAY2));
  await t.stats.rollover.run();
  const archived = await Deno.readFile(archiveFile(t.stats.dir, DAY1));
  // As if the node died between the rename and the removal of the day file.
  await Deno.writeFile(dayFile(t.stats.dir, DAY1), lines);
  await t.reopen();
  await assert.rejects(Deno.stat(dayFile(t.stats.dir, DAY1)), Deno.errors.NotFound);
  assert.deepEqual(await Deno.readFile(archiveFile(t.stats.dir, DAY1)), archived);
});

Deno.test("a half-written archive from a crash is removed at start", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  const partial = `${archiveFile(t.stats.dir, DAY1)}.tmp`;
  await Deno.writeTextFile(partial, "partial");
  await t.reopen();
  await assert.rejects(Deno.stat(partial), Deno.errors.NotFound);
  assert.ok(t.logLines.some((l) => l.includes("half-written statistics archive")));
});

Deno.test("the rollover timer packs yesterday once the clock passes midnight", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record()]);
  t.clock.set(noon(DAY1) + DAY_MS / 2 - 100);
  t.stats.rollover.start();
  t.clock.set(noon(DAY2));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      await Deno.stat(archiveFile(t.stats.dir, DAY1));
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  await t.stats.rollover.stop();
  assert.equal((await readManifest(archiveFile(t.stats.dir, DAY1))).records, 1);
});

Deno.test("a rollover that cannot pack a past day logs that it will retry and what to check", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record()]);
  // A file where the archive folder belongs: packing fails as on a full or read-only disk.
  const archives = join(t.stats.dir, "archive");
  await Deno.remove(archives, { recursive: true });
  await Deno.writeTextFile(archives, "in the way");
  t.clock.set(noon(DAY1) + DAY_MS / 2 - 100);
  t.stats.rollover.start();
  t.clock.set(noon(DAY2));
  const failed = (): string | undefined => t.logLines.find((l) => l.includes("ERROR"));
  const deadline = Date.now() + 5000;
  while (failed() === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await t.stats.rollover.stop();
  assert.match(
    failed() ?? "",
    /Cannot pack statistics of 2026-11-28, will retry within a minute: .+; check free space and the permissions of ".+\/stats"$/,
  );
  assert.ok((await Deno.stat(dayFile(t.stats.dir, DAY1))).isFile, "the day file waits");
});

Deno.test("a day of several megabytes packs and exports byte for byte", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  const batch = Array.from({ length: 2000 }, (_, i) => record({ size: i, threat: `T.${i % 7}` }));
  for (let i = 0; i < 4; i++) await t.stats.ingest.accept(1, batch);
  const lines = await Deno.readFile(dayFile(t.stats.dir, DAY1));
  assert.ok(lines.length > 2_000_000);
  t.clock.set(noon(DAY2));
  await t.stats.rollover.run();
  const exported = new Uint8Array(
    await new Response(ReadableStream.from(await exportDay(t.stats.dir, DAY1))).arrayBuffer(),
  );
  assert.deepEqual(exported, lines);
  const manifest = await readManifest(archiveFile(t.stats.dir, DAY1));
  assert.equal(manifest.records, 8000);
  assert.equal(Object.keys(manifest.threats).length, 7);
});

Deno.test("records found for a day already packed are added to its archive, not lost", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record({ size: 1 }), record({ size: 2 })]);
  t.clock.set(noon(DAY2));
  await t.stats.rollover.run();
  // As if a clock stepped back: a new file for the packed day.
  const late = JSON.stringify({ ...record({ size: 3 }), receivedAt: "2026-11-28T23:59:59.000Z" });
  await Deno.writeTextFile(dayFile(t.stats.dir, DAY1), late + "\n");
  await t.stats.rollover.run();
  const text = await new Response(ReadableStream.from(await exportDay(t.stats.dir, DAY1))).text();
  assert.deepEqual(text.trim().split("\n").map((l) => JSON.parse(l).size), [1, 2, 3]);
  assert.equal((await readManifest(archiveFile(t.stats.dir, DAY1))).records, 3);
});

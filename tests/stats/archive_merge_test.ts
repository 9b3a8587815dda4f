/**
 * Packing a day that has an archive already: records are added once, even when
 * the node dies between the rename of the new archive and the removal of the
 * day file and packs the same file again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  archiveFile,
  dayCounts,
  dayFile,
  exportDay,
  MANIFEST,
  ndjsonName,
  packDay,
  readManifest,
} from "../../src/stats/mod.ts";
import { writeTar } from "../../src/store/tar.ts";
import { fakeClock, tempDir } from "../_helpers.ts";
import { DAY1, extractWithTar, noon, openTestStats, readWithPython, record } from "./_stats.ts";

const DAY2 = "2026-11-29";

/** A crash where `beforeRemove` runs: the archive is in place, the day file not yet removed. */
class Crash extends Error {}
function crash(): never {
  throw new Crash("Simulated crash before the day file is removed");
}

/** NDJSON lines of records told apart by `size`, as the node writes them. */
function lines(sizes: number[]): string {
  return sizes.map((size) =>
    JSON.stringify({ ...record({ size }), receivedAt: `${DAY1}T23:59:${10 + size}.000Z` }) + "\n"
  ).join("");
}

/** The `size` of every record a day holds, read through the export. */
async function exportedSizes(dir: string, date: string): Promise<number[]> {
  const text = await new Response(ReadableStream.from(await exportDay(dir, date))).text();
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line).size);
}

/** The record count of the manifest and the `size` of every record, as GNU tar and Python see them. */
async function sizesInTar(
  path: string,
  date: string,
): Promise<{ tar: number[]; python: number[] }> {
  await using out = await extractWithTar(path);
  const text = await Deno.readTextFile(join(out.path, ndjsonName(date)));
  const manifest = JSON.parse(await Deno.readTextFile(join(out.path, MANIFEST)));
  const tar = text.split("\n").filter(Boolean).map((line) => JSON.parse(line).size);
  assert.equal(manifest.records, tar.length, "GNU tar: the manifest counts the records it holds");
  const python = await readWithPython<number[]>(
    path,
    date,
    "assert m['records']==len(lines)\n" +
      "print(json.dumps([json.loads(l)['size'] for l in lines]))",
  );
  return { tar, python };
}

async function assertOnce(dir: string, date: string, sizes: number[]): Promise<void> {
  await assert.rejects(Deno.stat(dayFile(dir, date)), Deno.errors.NotFound);
  assert.deepEqual(await exportedSizes(dir, date), sizes);
  assert.equal((await dayCounts(dir, date)).records, sizes.length);
  assert.equal((await readManifest(archiveFile(dir, date))).records, sizes.length);
  assert.deepEqual(await sizesInTar(archiveFile(dir, date), date), { tar: sizes, python: sizes });
}

Deno.test("a crash after a merged archive's rename does not add the late records twice at restart", async () => {
  await using t = await openTestStats({ start: noon(DAY1) });
  await t.stats.ingest.accept(1, [record({ size: 1 }), record({ size: 2 })]);
  t.clock.set(noon(DAY2));
  await t.stats.rollover.run();
  await Deno.writeTextFile(dayFile(t.stats.dir, DAY1), lines([3]));

  await assert.rejects(
    packDay(t.stats.dir, DAY1, { clock: t.clock, beforeRemove: crash }),
    Crash,
  );
  // Both places hold the late record now: the guarantee is "never nowhere".
  assert.equal(await Deno.readTextFile(dayFile(t.stats.dir, DAY1)), lines([3]));
  assert.equal((await readManifest(archiveFile(t.stats.dir, DAY1))).records, 3);

  await t.reopen();
  await assertOnce(t.stats.dir, DAY1, [1, 2, 3]);
  assert.equal((await readManifest(archiveFile(t.stats.dir, DAY1))).dayFiles?.length, 2);
});

Deno.test("a crash after the first archive's rename leaves that archive as it was", async () => {
  await using dir = await tempDir();
  const clock = fakeClock(noon(DAY2));
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([1, 2]));
  await assert.rejects(packDay(dir.path, DAY1, { clock, beforeRemove: crash }), Crash);
  const archived = await Deno.readFile(archiveFile(dir.path, DAY1));
  await packDay(dir.path, DAY1, { clock });
  assert.deepEqual(await Deno.readFile(archiveFile(dir.path, DAY1)), archived);
  await assertOnce(dir.path, DAY1, [1, 2]);
});

Deno.test("the same crash again and again still packs each late record once", async () => {
  await using dir = await tempDir();
  const clock = fakeClock(noon(DAY2));
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([1, 2]));
  await packDay(dir.path, DAY1, { clock });
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([3, 4]));
  await assert.rejects(packDay(dir.path, DAY1, { clock, beforeRemove: crash }), Crash);
  const merged = await Deno.readFile(archiveFile(dir.path, DAY1));
  for (let i = 0; i < 3; i++) {
    await assert.rejects(packDay(dir.path, DAY1, { clock, beforeRemove: crash }), Crash);
    assert.deepEqual(await Deno.readFile(archiveFile(dir.path, DAY1)), merged);
  }
  await packDay(dir.path, DAY1, { clock });
  await assertOnce(dir.path, DAY1, [1, 2, 3, 4]);
});

Deno.test("records appended to a day file left by a crash are added, the packed ones are not", async () => {
  await using dir = await tempDir();
  const clock = fakeClock(noon(DAY2));
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([1]));
  await packDay(dir.path, DAY1, { clock });
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([2]));
  await assert.rejects(packDay(dir.path, DAY1, { clock, beforeRemove: crash }), Crash);
  // As if the clock stepped back to that day again before the next pack.
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([3]), { append: true });
  await packDay(dir.path, DAY1, { clock });
  await assertOnce(dir.path, DAY1, [1, 2, 3]);
});

Deno.test("each new late day file is merged, and the manifest lists every packed file", async () => {
  await using dir = await tempDir();
  const clock = fakeClock(noon(DAY2));
  for (const sizes of [[1, 2], [3], [4, 5]]) {
    await Deno.writeTextFile(dayFile(dir.path, DAY1), lines(sizes));
    await packDay(dir.path, DAY1, { clock });
  }
  await assertOnce(dir.path, DAY1, [1, 2, 3, 4, 5]);
  const manifest = await readManifest(archiveFile(dir.path, DAY1));
  assert.deepEqual(manifest.dayFiles?.map((f) => f.bytes), [
    lines([1, 2]).length,
    lines([3]).length,
    lines([4, 5]).length,
  ]);
});

Deno.test("an archive without the list of packed files is read and merged into once", async () => {
  await using dir = await tempDir();
  const clock = fakeClock(noon(DAY2));
  // Written the way earlier versions did: the manifest has no dayFiles.
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([1, 2]));
  const written = await packDay(dir.path, DAY1, { clock });
  const { dayFiles: _, ...legacy } = written;
  const ndjson = new TextEncoder().encode(lines([1, 2]));
  const manifestBytes = new TextEncoder().encode(JSON.stringify(legacy, null, 2) + "\n");
  const mtime = new Date(clock.now());
  await writeTar(archiveFile(dir.path, DAY1), [
    { name: MANIFEST, size: manifestBytes.length, mtime, chunks: [manifestBytes] },
    { name: ndjsonName(DAY1), size: ndjson.length, mtime, chunks: [ndjson] },
  ]);
  assert.equal((await readManifest(archiveFile(dir.path, DAY1))).dayFiles, undefined);
  assert.deepEqual(await exportedSizes(dir.path, DAY1), [1, 2]);

  // Its own day file again (a crash after its rename) is removed, as before.
  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([1, 2]));
  await packDay(dir.path, DAY1, { clock });
  await assertOnce(dir.path, DAY1, [1, 2]);

  await Deno.writeTextFile(dayFile(dir.path, DAY1), lines([3]));
  await assert.rejects(packDay(dir.path, DAY1, { clock, beforeRemove: crash }), Crash);
  await packDay(dir.path, DAY1, { clock });
  await assertOnce(dir.path, DAY1, [1, 2, 3]);
});

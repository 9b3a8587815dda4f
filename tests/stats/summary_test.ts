/**
 * A day's counts: exact whatever the number of distinct threats, listed as the
 * 1,000 most frequent with the rest summed up, in archives old and new.
 */
import assert from "node:assert/strict";
import { MAX_MEMORY_KEYS } from "../../src/stats/_counts.ts";
import {
  archiveFile,
  dayCounts,
  dayFile,
  MANIFEST,
  ndjsonName,
  packDay,
  readManifest,
} from "../../src/stats/mod.ts";
import { summarize, TOP_THREATS } from "../../src/stats/summary.ts";
import { writeTar } from "../../src/store/tar.ts";
import { fakeClock, tempDir } from "../_helpers.ts";
import { DAY1, noon } from "./_stats.ts";

const DAY2 = "2026-11-29";
const encoder = new TextEncoder();

/** NDJSON of one record per threat, in the order given. */
function ndjson(threats: string[]): Uint8Array {
  return encoder.encode(
    threats.map((threat) => JSON.stringify({ verdict: "malicious", threat }) + "\n").join(""),
  );
}

/** Counts the slow, obvious way: every threat in a map, sorted by count then name. */
function expectedTop(threats: string[]): {
  top: [string, number][];
  other: { records: number; distinct: number };
} {
  const counts = new Map<string, number>();
  for (const t of threats) counts.set(t, (counts.get(t) ?? 0) + 1);
  const sorted = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  const rest = sorted.slice(TOP_THREATS);
  return {
    top: sorted.slice(0, TOP_THREATS),
    other: { records: rest.reduce((n, [, c]) => n + c, 0), distinct: rest.length },
  };
}

/** Threats with more distinct values than the counter holds in memory, repeats spread out. */
function manyThreats(): string[] {
  const threats: string[] = [];
  const distinct = MAX_MEMORY_KEYS * 2 + 5_000;
  for (let i = 0; i < distinct; i++) {
    threats.push(`Distinct.${i}`);
    // Repeats land before and after every move to the temporary file, so counts must add up there.
    if (i % 97 === 0) threats.push(`Repeated.${i % 7}`);
    if (i % 1_001 === 0) threats.push("Widespread", "Widespread");
  }
  return threats;
}

Deno.test("a day with more distinct threats than fit in memory is counted exactly: the top 1,000 by count then name, the rest summed up", async () => {
  await using dir = await tempDir();
  const threats = manyThreats();
  const bytes = ndjson(threats);
  const summary = await summarize(ReadableStream.from([bytes]), { tempDir: dir.path });
  const expected = expectedTop(threats);
  assert.equal(summary.records, threats.length);
  assert.deepEqual(Object.entries(summary.threats), expected.top);
  assert.deepEqual(summary.otherThreats, expected.other);
  assert.equal(summary.countsExact, true);
  assert.deepEqual(summary.verdicts, { malicious: threats.length });
  const left: string[] = [];
  for await (const entry of Deno.readDir(dir.path)) left.push(entry.name);
  assert.deepEqual(left, [], "the temporary counting file is gone");
});

Deno.test("a day with few threats lists them all, with nothing summed up", async () => {
  await using dir = await tempDir();
  const summary = await summarize(ReadableStream.from([ndjson(["B", "A", "B", "C", "A", "B"])]), {
    tempDir: dir.path,
  });
  assert.deepEqual(summary.threats, { B: 3, A: 2, C: 1 });
  assert.deepEqual(summary.otherThreats, { records: 0, distinct: 0 });
});

Deno.test("the archive's manifest lists the top 1,000 threats and sums up the rest", async () => {
  await using dir = await tempDir();
  const threats = Array.from({ length: 1_500 }, (_, i) => `T.${String(i).padStart(4, "0")}`);
  threats.push("T.9999", "T.9999");
  await Deno.writeFile(dayFile(dir.path, DAY1), ndjson(threats));
  await packDay(dir.path, DAY1, { clock: fakeClock(noon(DAY2)) });
  const manifest = await readManifest(archiveFile(dir.path, DAY1));
  assert.equal(Object.keys(manifest.threats).length, 1_000);
  assert.deepEqual(Object.entries(manifest.threats).slice(0, 2), [["T.9999", 2], ["T.0000", 1]]);
  assert.deepEqual(manifest.otherThreats, { records: 501, distinct: 501 });
  assert.equal(manifest.countsExact, true);
});

Deno.test("an archive from before the top list, which names every threat, reads as the top 1,000 and the rest", async () => {
  await using dir = await tempDir();
  const threats: Record<string, number> = { Big: 5 };
  for (let i = 0; i < 1_200; i++) threats[`T.${String(i).padStart(4, "0")}`] = 1;
  const legacy = {
    date: DAY1,
    records: 1_205,
    bytes: 0,
    sha256: "0".repeat(64),
    verdicts: { malicious: 1_205 },
    threats,
    packedAt: "2026-11-29T00:00:05.000Z",
  };
  const manifestBytes = encoder.encode(JSON.stringify(legacy, null, 2) + "\n");
  const mtime = new Date(noon(DAY2));
  await Deno.mkdir(`${dir.path}/archive`);
  await writeTar(archiveFile(dir.path, DAY1), [
    { name: MANIFEST, size: manifestBytes.length, mtime, chunks: [manifestBytes] },
    { name: ndjsonName(DAY1), size: 0, mtime, chunks: [] },
  ]);
  const counts = await dayCounts(dir.path, DAY1);
  assert.equal(Object.keys(counts.threats).length, 1_000);
  assert.deepEqual(Object.entries(counts.threats)[0], ["Big", 5]);
  assert.deepEqual(counts.otherThreats, { records: 201, distinct: 201 });
  assert.equal(counts.countsExact, true);
  assert.equal(counts.records, 1_205);
});

Deno.test("a day both packed and with late records in its file is counted exactly across both", async () => {
  await using dir = await tempDir();
  const clock = fakeClock(noon(DAY2));
  const packed = Array.from({ length: 1_100 }, (_, i) => `P.${i}`);
  await Deno.writeFile(dayFile(dir.path, DAY1), ndjson([...packed, "Late", "Late"]));
  await packDay(dir.path, DAY1, { clock });
  // "P.1050" is in the archive's summed-up rest; the late file makes it the most frequent.
  const late = ["P.1050", "P.1050", "P.1050", "Late"];
  await Deno.writeFile(dayFile(dir.path, DAY1), ndjson(late));
  const counts = await dayCounts(dir.path, DAY1);
  assert.equal(counts.records, packed.length + 2 + late.length);
  assert.deepEqual(Object.entries(counts.threats).slice(0, 2), [["P.1050", 4], ["Late", 3]]);
  assert.deepEqual(counts.otherThreats, { records: 101, distinct: 101 });
});

/**
 * An import whose lines are read on a parse worker (importBytes) must report and store exactly
 * what one read on its own thread (importRecords) does, whatever the chunks the input comes in.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import type { DatabaseSync } from "node:sqlite";
import {
  importBytes,
  type ImportOptions,
  importRecords,
  type ImportReport,
} from "../../src/feeds/import.ts";
import { ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { readLines } from "../../src/core/lines.ts";
import { AppError } from "../../src/core/errors.ts";
import { withDb } from "../_helpers.ts";

const MIRROR: ImportOptions = { format: "ndjson", origin: ORIGIN_MIRROR, source: "feed" };

/** `bytes` as a stream of chunks of `size` bytes (the last one shorter). */
function chunks(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.slice(at, at + size));
  return ReadableStream.from(parts);
}

/** Every stored entry with its attribute values, in key order. */
function stored(db: DatabaseSync): unknown[] {
  return db.prepare(
    "SELECT hex(e.key) AS key, e.origin, a.verdict, a.threat, a.categories, e.first_seen, " +
      "e.last_seen, a.ttl, a.source FROM entry e JOIN attr a ON a.id = e.attr " +
      "ORDER BY e.key, e.origin",
  ).all();
}

/**
 * Imports `input` both ways into fresh databases; asserts that the worker read it and that
 * reports and stored rows agree, and returns the worker's report.
 */
async function bothWays(
  input: string | Uint8Array,
  options: ImportOptions = MIRROR,
  chunkSize = 7,
): Promise<ImportReport> {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const here = await withDb(async (db) => ({
    report: await importRecords(db, readLines(ReadableStream.from([bytes])), options),
    rows: stored(db),
  }));
  const there = await withDb(async (db) => ({
    report: await importBytes(db, chunks(bytes, chunkSize), options),
    rows: stored(db),
  }));
  assert.equal(there.report.parsedOnWorker, true, "read on the worker");
  assert.equal(here.report.parsedOnWorker, false);
  assert.deepEqual({ ...there.report, parsedOnWorker: false }, here.report);
  assert.equal(there.rows.length, here.rows.length, "stored rows");
  // Row by row, so a difference shows as one row rather than as a diff of thousands.
  const differs = there.rows.findIndex((row, i) => !isDeepStrictEqual(row, here.rows[i]));
  if (differs !== -1) assert.deepEqual(there.rows[differs], here.rows[differs], `row ${differs}`);
  return there.report;
}

const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

Deno.test("a worker's import stores what an import on its own thread stores", async () => {
  const report = await bothWays(
    [
      { type: "file", md5: MD5, sha1: SHA1, sha256: SHA256, verdict: "malicious", threat: "EICAR" },
      { type: "url", value: "http://evil.example/x", verdict: "phishing", firstSeen: 1764000000 },
      { type: "domain", value: "bad.example", verdict: "malicious", categories: ["c2"] },
      { type: "ip", value: "192.0.2.7", verdict: "suspicious", ttl: 3600, source: "own" },
      "",
      // A repeat with the same values, and one whose dates differ: both duplicates.
      { type: "domain", value: "bad.example", verdict: "malicious", categories: ["c2"] },
      { type: "file", sha256: SHA256, verdict: "malicious", threat: "EICAR", lastSeen: 1764000001 },
    ].map((r) => typeof r === "string" ? r : JSON.stringify(r)).join("\n") + "\n",
  );
  assert.equal(report.committed, true);
  assert.equal(report.records, 6);
  assert.equal(report.keys, 8);
  assert.equal(report.duplicates, 2);
});

Deno.test("a worker's import reports every bad line as an import on its own thread does", async () => {
  const good = JSON.stringify({ type: "domain", value: "ok.example", verdict: "malicious" });
  const bytes = new TextEncoder().encode(
    [
      good,
      "{not json",
      JSON.stringify({ type: "file", value: "zz", verdict: "malicious" }),
      JSON.stringify({ type: "domain", value: "ok.example", verdict: "clean" }),
      "\uFFFD",
      good,
    ].join("\n") + "\n",
  );
  // A line that is not UTF-8 (0xff) in place of the fifth.
  const text = new TextDecoder().decode(bytes);
  const at = text.indexOf("\uFFFD");
  const withBadByte = new Uint8Array([
    ...new TextEncoder().encode(text.slice(0, at)),
    0xff,
    ...new TextEncoder().encode(text.slice(at + 1)),
  ]);
  const report = await bothWays(withBadByte);
  assert.equal(report.committed, false);
  assert.deepEqual(report.errors.map((e) => e.line), [2, 3, 4, 5]);
  assert.match(report.errors[0].message, /not JSON/);
  assert.match(report.errors[3].message, /UTF-8/);
});

Deno.test("a worker reads CSV, a feed format by name and their header errors alike", async () => {
  const csv = "type,value,verdict,categories\n" +
    'domain,a.example,malicious,"c2;spam"\n' +
    'url,"http://b.example/x,y",phishing,\n';
  assert.equal((await bothWays(csv, { ...MIRROR, format: "csv" }, 5)).records, 2);
  const noHeader = await bothWays("", { ...MIRROR, format: "csv" });
  assert.deepEqual(noHeader.errors, [{ line: 1, message: "CSV has no header row" }]);

  const urlhaus = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n" +
    '"1","2026-11-30 10:00:00","http://c.example/bin","online","2026-11-30 10:00:00",' +
    '"malware_download","elf","https://urlhaus.abuse.ch/url/1/","someone"\n';
  const feed = { ...MIRROR, format: { feed: "urlhaus", options: { source: "urlhaus" } } };
  assert.equal((await bothWays(urlhaus, feed, 11)).records, 1);
  // A header it cannot read stops the read at that line, whatever follows.
  const broken = await bothWays("# id,nothing,else\n" + '"1","2"\n'.repeat(50), feed);
  assert.equal(broken.errorCount, 1);
  assert.equal(broken.errors[0].line, 1);
});

Deno.test("a worker stops at an over-long line as an import on its own thread does", async () => {
  const good = JSON.stringify({ type: "domain", value: "ok.example", verdict: "malicious" });
  const report = await bothWays(`${good}\n${"x".repeat(1_100_000)}\n${good}\n`, MIRROR, 65_536);
  assert.deepEqual(report.errors.map((e) => e.line), [2]);
  assert.match(report.errors[0].message, /longer than/);
});

Deno.test("a worker's import of more than it reads ahead comes out whole and in order", async () => {
  // About 7 MB: more than the 3 MiB the import's thread posts ahead, so it waits for the worker.
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    const hex = i.toString(16).padStart(8, "0");
    lines.push(JSON.stringify({
      type: "file",
      sha256: hex.repeat(8),
      verdict: i % 7 === 0 ? "adware" : "malicious",
      threat: `Threat.${i % 13}`,
      firstSeen: 1_700_000_000 + i,
      source: `feed-${i % 3}`,
    }));
  }
  // The same key again with other values, far from its first line: a conflict.
  lines.push(JSON.stringify({ type: "file", sha256: "0000002a".repeat(8), verdict: "clean" }));
  const report = await bothWays(lines.join("\n") + "\n", MIRROR, 40_000);
  assert.equal(report.records, 60_001);
  assert.equal(report.conflicts, 1);
  assert.deepEqual(report.errors.map((e) => e.line), [60_001]);
  const lastWins = await bothWays(lines.join("\n") + "\n", { ...MIRROR, lastWins: true }, 65_536);
  assert.equal(lastWins.committed, true);
  assert.equal(lastWins.keys, 60_001);
});

Deno.test("an import given a converter object reads on its own thread", async () => {
  await withDb(async (db) => {
    const converter = {
      convert: (text: string) => ({ type: "domain", value: text, verdict: "malicious" }),
    };
    const report = await importBytes(
      db,
      ReadableStream.from([new TextEncoder().encode("a.example\nb.example\n")]),
      { ...MIRROR, format: converter },
    );
    assert.equal(report.parsedOnWorker, false);
    assert.equal(report.records, 2);
    assert.equal(report.committed, true);
  });
});

Deno.test("a worker's read that stops at a bad header gives up the rest of the input", async () => {
  const feed = { ...MIRROR, format: { feed: "urlhaus" } };
  const line = new TextEncoder().encode(
    '"1","2026-11-30 10:00:00","http://c.example/bin"\n'.repeat(1000),
  );
  let pulls = 0;
  let cancelled = false;
  // A bad header, then about 10 MB: more than the import's thread posts ahead of the worker.
  const input = new ReadableStream<Uint8Array>({
    pull(controller): void {
      if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("# id,nothing,else\n"));
      else if (pulls < 200) controller.enqueue(line);
      else controller.close();
    },
    cancel(): void {
      cancelled = true;
    },
  });
  await withDb(async (db) => {
    const report = await importBytes(db, input, feed);
    assert.equal(report.parsedOnWorker, true);
    assert.deepEqual(report.errors.map((e) => e.line), [1]);
  });
  assert.equal(cancelled, true, "the input was cancelled");
  assert.ok(pulls < 200, `read ${pulls} of 200 chunks`);
});

Deno.test("a worker's import refuses what an import on its own thread refuses, with its error", async () => {
  const unknown = { ...MIRROR, format: { feed: "no-such-feed" } };
  const input = () => ReadableStream.from([new TextEncoder().encode("a.example\n")]);
  const refusals = await withDb(async (db) => [
    await importRecords(db, readLines(input()), unknown).catch((err) => err),
    await importBytes(db, input(), unknown).catch((err) => err),
  ]);
  for (const err of refusals) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, "invalid_format");
    assert.match(err.message, /Unknown feed format "no-such-feed"/);
  }
});

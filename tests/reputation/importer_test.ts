import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import {
  EntryRepository,
  type EntryRow,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
} from "../../src/store/entries.ts";
import {
  formatFromName,
  type ImportOptions,
  importRecords,
  type ImportReport,
} from "../../src/feeds/import.ts";
import { digestKey, ipKey, textKey } from "../../src/reputation/keys.ts";
import { parseDigest } from "../../src/reputation/hash.ts";
import { type NumberedLine, readLines } from "../../src/core/lines.ts";
import { withDb } from "../_helpers.ts";

const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const MIRROR: ImportOptions = { format: "ndjson", origin: ORIGIN_MIRROR, source: "feed" };
const CSV: ImportOptions = { ...MIRROR, format: "csv" };

function linesOf(text: string): AsyncIterable<NumberedLine> {
  return readLines(ReadableStream.from([new TextEncoder().encode(text)]));
}

function ndjson(...records: unknown[]): string {
  return records.map((r) => typeof r === "string" ? r : JSON.stringify(r)).join("\n") + "\n";
}

function importText(db: DatabaseSync, text: string, options = MIRROR): Promise<ImportReport> {
  return importRecords(db, linesOf(text), options);
}

function count(db: DatabaseSync): number {
  return new EntryRepository(db).count();
}

function fileKey(hex: string): Uint8Array {
  return digestKey("file", parseDigest(hex).bytes);
}

/** Every stored row of a key, local override first, read with SQL. */
function rowsOf(db: DatabaseSync, key: Uint8Array): EntryRow[] {
  // The entry row with its attribute set (schema 6 keeps verdict, threat, categories, ttl and
  // source once per distinct set, in attr).
  return db.prepare(
    "SELECT e.key AS key, e.origin AS origin, a.verdict AS verdict, a.threat AS threat, " +
      "a.categories AS categories, e.first_seen AS first_seen, e.last_seen AS last_seen, " +
      "a.ttl AS ttl, a.source AS source FROM entry e JOIN attr a ON a.id = e.attr " +
      "WHERE e.key = ? ORDER BY e.origin DESC",
  ).all(key) as unknown as EntryRow[];
}

function only(db: DatabaseSync, key: Uint8Array): EntryRow {
  const rows = rowsOf(db, key);
  assert.equal(rows.length, 1, `expected one row, got ${rows.length}`);
  return rows[0];
}

Deno.test("an NDJSON file record with md5, sha1 and sha256 is stored under three keys", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson({ type: "file", md5: MD5, sha1: SHA1, sha256: SHA256, verdict: "malicious" }),
    );
    assert.deepEqual(report, {
      lines: 1,
      records: 1,
      keys: 3,
      errorCount: 0,
      errors: [],
      committed: true,
      duplicates: 0,
      conflicts: 0,
      parsedOnWorker: false,
    });
    assert.equal(count(db), 3);
    for (const hex of [MD5, SHA1, SHA256]) assert.equal(only(db, fileKey(hex)).verdict, 2);
  });
});

Deno.test("an NDJSON record stores its threat, categories, ttl, dates and source", async () => {
  await withDb(async (db) => {
    await importText(
      db,
      ndjson({
        type: "file",
        value: MD5.toUpperCase(),
        verdict: "adware",
        threat: "Adware.Win32.Test",
        categories: ["pup", "bundler"],
        ttl: 900,
        firstSeen: "2026-01-02T00:00:00Z",
        lastSeen: 1_800_000_000,
        source: "vendor-x",
      }),
    );
    const row = only(db, fileKey(MD5));
    assert.equal(row.origin, ORIGIN_MIRROR);
    assert.equal(row.verdict, 4);
    assert.equal(row.threat, "Adware.Win32.Test");
    assert.equal(row.categories, '["pup","bundler"]');
    assert.equal(row.ttl, 900);
    assert.equal(row.first_seen, Date.UTC(2026, 0, 2) / 1000);
    assert.equal(row.last_seen, 1_800_000_000);
    assert.equal(row.source, "vendor-x");
  });
});

Deno.test("a record without a source gets the import's source; optional fields stay null", async () => {
  await withDb(async (db) => {
    await importText(db, ndjson({ type: "domain", value: "evil.example", verdict: "phishing" }));
    const row = only(db, textKey("domain", "evil.example"));
    assert.equal(row.source, "feed");
    assert.equal(row.threat, null);
    assert.equal(row.categories, null);
    assert.equal(row.ttl, null);
    assert.equal(row.first_seen, null);
  });
});

Deno.test("domain, url and ip records are stored under their canonical keys", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson(
        { type: "domain", value: "Bücher.Example.", verdict: "malicious" },
        { type: "url", value: "http://EVIL.example/a/../b/", verdict: "phishing" },
        { type: "ip", value: "203.0.113.0/24", verdict: "suspicious" },
      ),
    );
    assert.equal(report.committed, true);
    assert.equal(only(db, textKey("domain", "xn--bcher-kva.example")).verdict, 2);
    assert.equal(only(db, textKey("url", "evil.example/b/")).verdict, 3);
    assert.equal(only(db, ipKey(Uint8Array.of(203, 0, 113, 0), 24)).verdict, 5);
  });
});

Deno.test("with lastWins a later line for the same key wins within one import", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson(
        { type: "domain", value: "evil.example", verdict: "malicious" },
        { type: "domain", value: "EVIL.example", verdict: "clean" },
      ),
      { ...MIRROR, lastWins: true },
    );
    assert.equal(report.committed, true);
    assert.equal(report.conflicts, 1);
    assert.equal(only(db, textKey("domain", "evil.example")).verdict, 1);
  });
});

Deno.test("two lines giving one key different verdicts fail the later line, naming the earlier", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson(
        { type: "domain", value: "evil.example", verdict: "malicious" },
        { type: "domain", value: "other.example", verdict: "malicious" },
        { type: "domain", value: "EVIL.example.", verdict: "clean" },
      ),
      { ...MIRROR, name: "feed.ndjson" },
    );
    assert.equal(report.committed, false);
    assert.equal(report.conflicts, 1);
    assert.deepEqual(report.errors, [{
      line: 3,
      message: 'Conflicts with feed.ndjson:1 over domain "evil.example": ' +
        'verdict "malicious" there, "clean" here',
    }]);
    assert.equal(count(db), 0);
  });
});

Deno.test("a different threat or categories is a conflict; an unnamed input says line N", async () => {
  await withDb(async (db) => {
    const url = { type: "url", value: "http://evil.example/a", verdict: "phishing" };
    const report = await importText(
      db,
      ndjson(
        { ...url, threat: "Phish.A", categories: ["bank"] },
        { ...url, threat: "Phish.B", categories: ["bank", "mail"] },
      ),
    );
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors, [{
      line: 2,
      message: 'Conflicts with line 1 over url "evil.example/a": ' +
        'threat "Phish.A" there, "Phish.B" here; categories "bank" there, "bank,mail" here',
    }]);
  });
});

Deno.test("identical repeats are counted, not refused, and the last line's dates are kept", async () => {
  await withDb(async (db) => {
    const line = { type: "ip", value: "192.0.2.1", verdict: "malicious", categories: ["a", "b"] };
    const report = await importText(
      db,
      ndjson(
        { ...line, lastSeen: 1_700_000_000 },
        { ...line, value: "::ffff:192.0.2.1", categories: ["b", "a"], lastSeen: 1_800_000_000 },
        { type: "ip", value: "192.0.2.2", verdict: "malicious" },
      ),
    );
    assert.equal(report.committed, true);
    assert.equal(report.duplicates, 1);
    assert.equal(report.conflicts, 0);
    assert.equal(count(db), 2);
    assert.equal(only(db, ipKey(Uint8Array.of(192, 0, 2, 1), 32)).last_seen, 1_800_000_000);
  });
});

Deno.test("a file record conflicting under several of its hashes is one error", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson(
        { type: "file", md5: MD5, sha256: SHA256, verdict: "malicious" },
        { type: "file", md5: MD5, sha1: SHA1, sha256: SHA256, verdict: "clean" },
      ),
    );
    assert.equal(report.committed, false);
    assert.equal(report.errorCount, 1);
    assert.equal(report.conflicts, 1);
    assert.equal(report.errors[0].line, 2);
  });
});

Deno.test("a conflict with a line in an earlier batch is found, and reported with line errors in order", async () => {
  await withDb(async (db) => {
    async function* lines(): AsyncGenerator<NumberedLine> {
      for (let i = 1; i <= 70_000; i++) {
        const hex = (Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(32, "0");
        yield { number: i, text: `{"type":"file","value":"${hex}","verdict":"malicious"}` };
      }
      const first = (Math.imul(5, 0x9e3779b1) >>> 0).toString(16).padStart(32, "0");
      yield { number: 70_001, text: `{"type":"file","value":"${first}","verdict":"clean"}` };
      yield { number: 70_002, text: '{"type":"file","value":"nope","verdict":"malicious"}' };
    }
    const report = await importRecords(db, lines(), MIRROR);
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors.map((e) => e.line), [70_001, 70_002]);
    assert.match(report.errors[0].message, /^Conflicts with line 5 over file "/);
    assert.equal(count(db), 0);
  });
});

Deno.test("repeats among many rows of one batch are found in line order", async () => {
  await withDb(async (db) => {
    const records: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      records.push({ type: "domain", value: `d${i}.example`, verdict: "malicious" });
    }
    records.push({ type: "domain", value: "d10.example", verdict: "clean" });
    records.push({ type: "domain", value: "d20.example", verdict: "malicious" });
    records.push({ type: "domain", value: "d10.example", verdict: "phishing" });
    const report = await importText(db, ndjson(...records));
    assert.equal(report.committed, false);
    assert.equal(report.duplicates, 1);
    assert.equal(report.conflicts, 2);
    assert.deepEqual(report.errors.map((e) => e.line), [201, 203]);
    assert.match(report.errors[0].message, /^Conflicts with line 11 over domain "d10\.example"/);
    assert.match(report.errors[1].message, /^Conflicts with line 11 over domain "d10\.example"/);
  });
});

Deno.test("keys that only look alike to the repeat filter are neither repeats nor conflicts", async () => {
  await withDb(async (db) => {
    // Same first four bytes, length and last byte: the filter cannot tell them apart.
    const hexes = Array.from(
      { length: 300 },
      (_, i) => `aaaaaaaa${i.toString(16).padStart(22, "0")}ff`,
    );
    const report = await importText(
      db,
      ndjson(
        ...hexes.map((md5, i) => ({ type: "file", md5, verdict: i % 2 ? "clean" : "malicious" })),
      ),
    );
    assert.equal(report.committed, true, JSON.stringify(report.errors));
    assert.equal(report.duplicates + report.conflicts, 0);
    assert.equal(count(db), 300);
  });
});

Deno.test("an import leaves no scratch database attached, whether it commits or not", async () => {
  await withDb(async (db) => {
    const schemas = (): string[] =>
      db.prepare("PRAGMA database_list").all().map((r) => String(r.name)).filter((n) =>
        n !== "temp"
      );
    const line = { type: "domain", value: "evil.example", verdict: "malicious" };
    assert.equal((await importText(db, ndjson(line))).committed, true);
    assert.deepEqual(schemas(), ["main"]);
    assert.equal(
      (await importText(db, ndjson(line, { ...line, verdict: "clean" }))).committed,
      false,
    );
    assert.deepEqual(schemas(), ["main"]);
    assert.equal(db.isTransaction, false);
  });
});

Deno.test("rows already stored before the import are replaced, not taken for repeats", async () => {
  await withDb(async (db) => {
    const line = { type: "domain", value: "evil.example", verdict: "malicious" };
    await importText(db, ndjson(line));
    const report = await importText(db, ndjson({ ...line, verdict: "clean" }));
    assert.equal(report.committed, true);
    assert.equal(report.conflicts + report.duplicates, 0);
    assert.equal(only(db, textKey("domain", "evil.example")).verdict, 1);
  });
});

Deno.test("a URL whose host is not a domain name or IP address is rejected at its line", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson(
        { type: "url", value: "http://fine.example/", verdict: "malicious" },
        { type: "url", value: "not a url", verdict: "malicious" },
        { type: "url", value: "http://bad_-.example%00/", verdict: "malicious" },
        { type: "url", value: "http://[2001:db8::1]:8080/x", verdict: "malicious" },
        { type: "url", value: "http://0x7f.1/", verdict: "malicious" },
        // Browsers refuse a "/" that unescaping or IDNA puts into a host.
        { type: "url", value: "http://evil.example%2Fgood.com/", verdict: "malicious" },
        { type: "url", value: "http://evil.example\uff0fgood.com/", verdict: "malicious" },
        { type: "url", value: "http://evil.example/a%2Fb?q=%20", verdict: "malicious" },
      ),
    );
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors.map((e) => e.line), [2, 3, 6, 7]);
    assert.match(report.errors[2].message, /^Invalid URL "http:\/\/evil\.example%2Fgood\.com\/"/);
    assert.match(report.errors[0].message, /^Invalid URL "not a url": /);
    assert.match(report.errors[1].message, /host ".*" is not a domain name or IP address$/);
    assert.equal(count(db), 0);
  });
});

Deno.test("a URL host with a label that starts or ends with a hyphen is listed, as browsers open it", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson(
        { type: "url", value: "http://foo-.blogspot.example/x", verdict: "malicious" },
        { type: "url", value: "http://-bar.example/", verdict: "malicious" },
        { type: "url", value: "http://999.1.1.1/", verdict: "malicious" },
      ),
    );
    assert.deepEqual(report.errors.map((e) => e.line), [3], "999 is no IPv4 octet");
    const fixed = await importText(
      db,
      ndjson(
        { type: "url", value: "http://foo-.blogspot.example/x", verdict: "malicious" },
        { type: "url", value: "http://-bar.example/", verdict: "malicious" },
      ),
    );
    assert.equal(fixed.committed, true);
    assert.equal(count(db), 2);
  });
});

Deno.test("dates must be ISO 8601 with a zone from 1970 on, and text fields printable", async () => {
  await withDb(async (db) => {
    const base = { type: "domain", value: "evil.example", verdict: "malicious" };
    const report = await importText(
      db,
      ndjson(
        { ...base, firstSeen: "1" },
        { ...base, firstSeen: "May 5, 2026" },
        { ...base, firstSeen: "2026-05-05T12:00:00" },
        { ...base, firstSeen: "1969-12-31" },
        { ...base, threat: "Trojan\u0000" },
        { ...base, categories: ["ok", "bad\u001b[31m"] },
        { ...base, firstSeen: "2026-05-05T12:00:00+02:00", threat: "Trojan.Ok" },
      ),
    );
    assert.deepEqual(report.errors.map((e) => e.line), [1, 2, 3, 4, 5, 6]);
    assert.match(report.errors[0].message, /^"firstSeen": expected an ISO 8601 date/);
    assert.match(report.errors[4].message, /^"threat": expected printable text/);
    assert.match(report.errors[5].message, /^"categories\.1": expected printable text/);
  });
});

Deno.test("an import with origin local writes overrides beside the mirror row", async () => {
  await withDb(async (db) => {
    const line = { type: "domain", value: "evil.example", verdict: "malicious" };
    await importText(db, ndjson(line));
    await importText(db, ndjson({ ...line, verdict: "clean" }), {
      ...MIRROR,
      origin: ORIGIN_LOCAL,
      source: "operator",
    });
    const rows = rowsOf(db, textKey("domain", "evil.example"));
    assert.deepEqual(rows.map((r) => [r.origin, r.verdict, r.source]), [
      [ORIGIN_LOCAL, 1, "operator"],
      [ORIGIN_MIRROR, 2, "feed"],
    ]);
  });
});

Deno.test("every bad line is reported by number, blank lines counted, and nothing is stored", async () => {
  await withDb(async (db) => {
    await importText(db, ndjson({ type: "domain", value: "kept.example", verdict: "malicious" }));
    const before = count(db);
    const text = [
      JSON.stringify({ type: "domain", value: "good.example", verdict: "malicious" }),
      "",
      JSON.stringify({ type: "file", value: "xyz", verdict: "malicious" }),
      "   ",
      "{not json",
      JSON.stringify({ type: "domain", value: "other.example", verdict: "clean" }),
      JSON.stringify({ type: "ip", value: "10.0.0.1/8", verdict: "malicious" }),
    ].join("\n");
    const report = await importText(db, text);
    assert.equal(report.committed, false);
    assert.equal(report.lines, 7);
    assert.equal(report.errorCount, 3);
    assert.deepEqual(report.errors.map((e) => e.line), [3, 5, 7]);
    assert.match(report.errors[0].message, /^Invalid hash "xyz"/);
    assert.match(report.errors[1].message, /^not JSON: /);
    assert.match(report.errors[2].message, /host bits are set/);
    assert.equal(count(db), before);
    assert.equal(rowsOf(db, textKey("domain", "good.example")).length, 0);
    assert.equal(db.isTransaction, false);
  });
});

Deno.test("a bad line after more than one batch of good rows still stores nothing", async () => {
  await withDb(async (db) => {
    async function* lines(): AsyncGenerator<NumberedLine> {
      for (let i = 1; i <= 70_000; i++) {
        yield {
          number: i,
          text: `{"type":"file","value":"${
            i.toString(16).padStart(32, "0")
          }","verdict":"malicious"}`,
        };
      }
      yield { number: 70_001, text: '{"type":"file","value":"nope","verdict":"malicious"}' };
    }
    const report = await importRecords(db, lines(), MIRROR);
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors.map((e) => e.line), [70_001]);
    assert.equal(count(db), 0);
  });
});

Deno.test("an unknown field is rejected naming it", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson({ type: "domain", value: "evil.example", verdict: "malicious", colour: "red" }),
    );
    assert.equal(report.committed, false);
    assert.equal(report.errors[0].line, 1);
    assert.match(report.errors[0].message, /^unknown field "colour"; allowed: type, value, /);
  });
});

Deno.test('verdict "unknown" is rejected, listing the verdicts a record may carry', async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      ndjson({ type: "domain", value: "evil.example", verdict: "unknown" }),
    );
    assert.equal(report.committed, false);
    assert.equal(
      report.errors[0].message,
      '"verdict": expected one of clean, malicious, phishing, adware, suspicious',
    );
  });
});

Deno.test("a hash in the wrong field is rejected naming the field", async () => {
  await withDb(async (db) => {
    const report = await importText(db, ndjson({ type: "file", sha1: MD5, verdict: "malicious" }));
    assert.equal(report.errors[0].message, 'Field "sha1" holds a md5 digest, not sha1');
  });
});

Deno.test("the report keeps at most maxReportedErrors errors but counts them all", async () => {
  await withDb(async (db) => {
    const text = Array.from({ length: 5 }, () => "nope").join("\n");
    const report = await importRecords(db, linesOf(text), { ...MIRROR, maxReportedErrors: 2 });
    assert.equal(report.errorCount, 5);
    assert.deepEqual(report.errors.map((e) => e.line), [1, 2]);
  });
});

Deno.test("an empty NDJSON file commits nothing but succeeds", async () => {
  await withDb(async (db) => {
    const report = await importText(db, "");
    assert.equal(report.committed, true);
    assert.equal(report.records, 0);
  });
});

Deno.test("a line that is not UTF-8 is reported by number and nothing is imported", async () => {
  await withDb(async (db) => {
    const good = new TextEncoder().encode(
      ndjson({ type: "domain", value: "evil.example", verdict: "malicious" }),
    );
    const stream = ReadableStream.from([good, Uint8Array.of(0xff, 0x0a)]);
    const report = await importRecords(db, readLines(stream), MIRROR);
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors, [{ line: 2, message: "not valid UTF-8" }]);
    assert.equal(db.isTransaction, false);
    assert.equal(count(db), 0);
  });
});

Deno.test("a line over the length cap ends the import with a line error and rolls back", async () => {
  await withDb(async (db) => {
    const good = ndjson({ type: "domain", value: "evil.example", verdict: "malicious" });
    const stream = ReadableStream.from([new TextEncoder().encode(good + "x".repeat(200) + "\n")]);
    const report = await importRecords(db, readLines(stream, { maxLineBytes: 100 }), MIRROR);
    assert.equal(report.committed, false);
    assert.equal(report.errors[0].line, 2);
    assert.match(report.errors[0].message, /longer than 100 bytes/);
    assert.equal(count(db), 0);
  });
});

Deno.test("importing 200,000 records in one call commits every one", async () => {
  await withDb(async (db) => {
    const total = 200_000;
    const hexOf = (i: number): string =>
      (Math.imul(i + 1, 0x9e3779b1) >>> 0).toString(16).padStart(8, "0") +
      i.toString(16).padStart(56, "0");
    async function* lines(): AsyncGenerator<NumberedLine> {
      for (let i = 0; i < total; i++) {
        yield {
          number: i + 1,
          text: `{"type":"file","sha256":"${hexOf(i)}","verdict":"malicious"}`,
        };
      }
    }
    const report = await importRecords(db, lines(), MIRROR);
    assert.equal(report.committed, true);
    assert.equal(report.records, total);
    assert.equal(report.keys, total);
    assert.equal(count(db), total);
    for (const i of [0, 65_535, 65_536, 131_072, total - 1]) {
      assert.equal(only(db, fileKey(hexOf(i))).verdict, 2, `record ${i}`);
    }
  });
});

Deno.test("a CSV file with its columns in any order is imported", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      "verdict,value,type\nmalicious,evil.example,domain\nclean,198.51.100.7,ip\n",
      CSV,
    );
    assert.equal(report.committed, true);
    assert.equal(report.records, 2);
    assert.equal(only(db, textKey("domain", "evil.example")).verdict, 2);
    assert.equal(only(db, ipKey(Uint8Array.of(198, 51, 100, 7), 32)).verdict, 1);
  });
});

Deno.test("a CSV quoted field may hold commas, and categories are split on semicolons", async () => {
  await withDb(async (db) => {
    const text = [
      "Type,Value,Verdict,Threat,Categories,TTL,FirstSeen",
      'domain,evil.example,malicious,"Trojan, generic ""x""", botnet ; c2 ;,600,1700000000',
    ].join("\r\n");
    const report = await importText(db, text, CSV);
    assert.equal(report.committed, true, JSON.stringify(report.errors));
    const row = only(db, textKey("domain", "evil.example"));
    assert.equal(row.threat, 'Trojan, generic "x"');
    assert.equal(row.categories, '["botnet","c2"]');
    assert.equal(row.ttl, 600);
    assert.equal(row.first_seen, 1_700_000_000);
  });
});

Deno.test("a CSV quoted field spanning lines is read as one record, numbered by its first line", async () => {
  await withDb(async (db) => {
    const text = [
      "type,value,verdict,threat",
      'domain,evil.example,malicious,"Trojan',
      'generic"',
      "domain,good.example,clean,",
    ].join("\n");
    const report = await importText(db, text, CSV);
    assert.equal(report.committed, false, "a line break is not printable text");
    assert.deepEqual(report.errors.map((e) => e.line), [2]);
    assert.equal(
      report.errors[0].message,
      '"threat": expected printable text: no control characters',
    );
    assert.equal(report.lines, 4, "all four lines were read");
  });
});

Deno.test("a CSV quote that never closes is reported at the line that opened it", async () => {
  await withDb(async (db) => {
    const text = [
      "type,value,verdict,threat",
      "domain,good.example,clean,",
      'domain,evil.example,malicious,"Trojan',
      "domain,other.example,clean,",
    ].join("\n");
    const report = await importText(db, text, CSV);
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors, [{ line: 3, message: "Unterminated quoted field" }]);
  });
});

Deno.test("a CSV file row with md5, sha1 and sha256 columns makes three keys", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      `type,md5,sha1,sha256,verdict\nfile,${MD5},${SHA1},${SHA256},malicious\n`,
      CSV,
    );
    assert.equal(report.keys, 3);
    assert.equal(count(db), 3);
  });
});

Deno.test("a CSV row leaves empty cells out of the record", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      `type,value,md5,verdict,threat\nfile,${SHA1},,malicious,\n`,
      CSV,
    );
    assert.equal(report.committed, true, JSON.stringify(report.errors));
    assert.equal(only(db, fileKey(SHA1)).threat, null);
  });
});

Deno.test("a CSV header with an unknown column is rejected naming it", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      "type,value,verdict,colour\ndomain,a.example,clean,red\n",
      CSV,
    );
    assert.equal(report.committed, false);
    assert.equal(report.errors[0].line, 1);
    assert.match(report.errors[0].message, /^Unknown CSV column "colour"; allowed: type, value/);
    assert.equal(count(db), 0);
  });
});

Deno.test('a CSV header without the "type" or "verdict" column is rejected', async () => {
  await withDb(async (db) => {
    const noType = await importText(db, "value,verdict\na.example,clean\n", CSV);
    assert.equal(noType.errors[0].line, 1);
    assert.equal(noType.errors[0].message, 'CSV header lacks the "type" column');
    const noVerdict = await importText(db, "type,value\ndomain,a.example\n", CSV);
    assert.equal(noVerdict.errors[0].message, 'CSV header lacks the "verdict" column');
    assert.equal(count(db), 0);
  });
});

Deno.test({
  name: "a bad CSV header is reported once, not again for every data row",
  async fn(): Promise<void> {
    await withDb(async (db) => {
      const report = await importText(
        db,
        "type,value,verdict,colour\ndomain,a.example,clean,red\ndomain,b.example,clean,red\n",
        CSV,
      );
      assert.equal(report.committed, false);
      assert.deepEqual(report.errors.map((e) => e.line), [1]);
    });
  },
});

Deno.test("a CSV row with an unterminated quote is reported by line number", async () => {
  await withDb(async (db) => {
    const report = await importText(
      db,
      'type,value,verdict\ndomain,a.example,clean\ndomain,"b.example,clean\n',
      CSV,
    );
    assert.deepEqual(report.errors, [{ line: 3, message: "Unterminated quoted field" }]);
    assert.equal(count(db), 0);
  });
});

Deno.test("a CSV file with no header row is rejected", async () => {
  await withDb(async (db) => {
    const report = await importText(db, "\n\n", CSV);
    assert.equal(report.committed, false);
    assert.deepEqual(report.errors, [{ line: 1, message: "CSV has no header row" }]);
  });
});

Deno.test("formatFromName picks CSV for .csv names and NDJSON otherwise", () => {
  assert.equal(formatFromName("feed.CSV"), "csv");
  assert.equal(formatFromName("feed.ndjson"), "ndjson");
  assert.equal(formatFromName("feed.csv.gz"), "ndjson");
});

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
} from "../../src/reputation/importer.ts";
import { digestKey, ipKey, textKey } from "../../src/reputation/keys.ts";
import { parseDigest } from "../../src/reputation/hash.ts";
import { type NumberedLine, readLines } from "../../src/text/lines.ts";
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
  return db.prepare("SELECT * FROM entry WHERE key = ? ORDER BY origin DESC").all(
    key,
  ) as unknown as EntryRow[];
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

Deno.test("a later line for the same key wins within one import", async () => {
  await withDb(async (db) => {
    await importText(
      db,
      ndjson(
        { type: "domain", value: "evil.example", verdict: "malicious" },
        { type: "domain", value: "EVIL.example", verdict: "clean" },
      ),
    );
    assert.equal(only(db, textKey("domain", "evil.example")).verdict, 1);
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

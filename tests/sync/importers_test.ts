import assert from "node:assert/strict";
import { join } from "node:path";
import { openDatabase } from "../../src/store/database.ts";
import { migrate } from "../../src/store/migrations.ts";
import { EntryRepository, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { importRecords, type ImportReport } from "../../src/reputation/importer.ts";
import { Reputation } from "../../src/reputation/lookup.ts";
import { buildIndex } from "../../src/reputation/reputation_index.ts";
import type { LookupResult, ObjectType } from "../../src/reputation/types.ts";
import { readLines } from "../../src/text/lines.ts";
import { FEED_FORMATS, type FeedOptions, inferType } from "../../src/sync/importers/mod.ts";
import { splitFeedCsv, utcTimestamp } from "../../src/sync/importers/_csv_feed.ts";
import { tempDir } from "../_helpers.ts";

const FEEDS = new URL("../testdata/feeds/", import.meta.url);
const NOW = Date.UTC(2026, 10, 28, 12);
const EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f";
const EICAR_SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

interface Imported {
  report: ImportReport;
  /** Rows in the entry table after the import. */
  stored: number;
  /** The answers to the requested look-ups, in order. */
  answers: LookupResult[];
}

function fixture(name: string): Promise<string> {
  return Deno.readTextFile(new URL(name, FEEDS));
}

/** Imports `text` as feed `format` into a fresh database, then looks up each of `lookups`. */
async function importFeed(
  format: string,
  text: string,
  lookups: [ObjectType, string][] = [],
  options: FeedOptions = {},
): Promise<Imported> {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    migrate(db);
    const report = await importRecords(
      db,
      readLines(ReadableStream.from([new TextEncoder().encode(text)])),
      { format: FEED_FORMATS[format](options), origin: ORIGIN_MIRROR, source: "feed-file" },
    );
    const entries = new EntryRepository(db);
    const reputation = new Reputation({
      entries,
      index: { current: await buildIndex(db, { now: NOW }) },
      ttl: { unknown: 60, default: 3600 },
    });
    const answers = lookups.map(([type, value]) => reputation.lookup(type, value));
    return { report, stored: entries.count(), answers };
  } finally {
    db.close();
  }
}

/** The fields a feed decides, without the look-up's echo of the value. */
function listing(answer: LookupResult): Partial<LookupResult> {
  const { verdict, threat, categories, source, firstSeen, lastSeen } = answer;
  return Object.fromEntries(
    Object.entries({ verdict, threat, categories, source, firstSeen, lastSeen }).filter(([, v]) =>
      v !== undefined
    ),
  );
}

function assertNothingStored(
  imported: Imported,
  errors: { line: number; message: RegExp }[],
): void {
  assert.equal(imported.report.committed, false);
  assert.equal(imported.stored, 0);
  assert.equal(imported.report.errorCount, errors.length, JSON.stringify(imported.report.errors));
  imported.report.errors.forEach((e, i) => {
    assert.equal(e.line, errors[i].line, e.message);
    assert.match(e.message, errors[i].message);
  });
}

const URLHAUS_HEADER =
  "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter";

Deno.test("FEED_FORMATS names the urlhaus, malwarebazaar, threatfox and list formats", () => {
  assert.deepEqual(Object.keys(FEED_FORMATS), ["urlhaus", "malwarebazaar", "threatfox", "list"]);
});

// --- URLhaus ---

Deno.test("a URLhaus export lists every URL as malicious with threat, tags and dateadded", async () => {
  const imported = await importFeed("urlhaus", await fixture("urlhaus.csv"), [
    ["url", "http://198.51.100.23:47213/i"],
    ["url", "https://files.evil.example/update/invoice.exe"],
    ["url", "http://dropper.example/bins/x86"],
  ]);
  assert.equal(imported.report.committed, true, JSON.stringify(imported.report.errors));
  assert.equal(imported.report.records, 3);
  assert.equal(imported.report.lines, 13);
  assert.deepEqual(imported.answers.map(listing), [
    {
      verdict: "malicious",
      threat: "malware_download",
      categories: ["32-bit", "elf", "mips", "Mozi"],
      source: "urlhaus",
      firstSeen: "2026-11-28T11:50:12Z",
      lastSeen: "2026-11-28T11:50:12Z",
    },
    // Offline, and its last_online is empty: still listed, without a lastSeen.
    {
      verdict: "malicious",
      threat: "malware_download",
      categories: ["exe", "AgentTesla"],
      source: "urlhaus",
      firstSeen: "2026-11-28T11:48:01Z",
    },
    // Tags "None" mean no categories.
    {
      verdict: "malicious",
      threat: "malware_download",
      source: "urlhaus",
      firstSeen: "2026-11-27T09:01:44Z",
      lastSeen: "2026-11-28T10:00:00Z",
    },
  ]);
});

Deno.test("URLhaus columns are read by header name, in any order and any case", async () => {
  const text = [
    "# generated by a script that reorders columns",
    '# "URL","Tags","Threat","ID","DateAdded"',
    '"http://swapped.example/a","elf","malware_download","1","2026-01-02 03:04:05"',
  ].join("\n");
  const imported = await importFeed("urlhaus", text, [["url", "http://swapped.example/a"]]);
  assert.equal(imported.report.committed, true, JSON.stringify(imported.report.errors));
  assert.deepEqual(listing(imported.answers[0]), {
    verdict: "malicious",
    threat: "malware_download",
    categories: ["elf"],
    source: "urlhaus",
    firstSeen: "2026-01-02T03:04:05Z",
  });
});

Deno.test("a URLhaus header row without the comment mark is read as the header", async () => {
  const text = "# banner\nid,url,threat\n3,http://plain.example/,malware_download\n";
  const imported = await importFeed("urlhaus", text, [["url", "http://plain.example/"]]);
  assert.equal(imported.report.committed, true, JSON.stringify(imported.report.errors));
  assert.equal(imported.answers[0].verdict, "malicious");
});

Deno.test("a URLhaus header without the url column is one error at the header line", async () => {
  const text = [
    "# banner",
    "# id,dateadded,link,threat",
    '"1","2026-11-28 11:50:12","http://a.example/","malware_download"',
    '"2","2026-11-28 11:50:13","http://b.example/","malware_download"',
  ].join("\n");
  assertNothingStored(await importFeed("urlhaus", text), [
    {
      line: 2,
      message: /^URLhaus header lacks the "url" column; found: id, dateadded, link, threat$/,
    },
  ]);
});

Deno.test("an invalid URL in a URLhaus export fails the whole import at its line", async () => {
  const imported = await importFeed("urlhaus", await fixture("urlhaus_bad_url.csv"));
  assertNothingStored(imported, [{
    line: 7,
    message: /^Invalid URL "gopher:\/\/old\.example\/1"/,
  }]);
});

Deno.test("an empty url cell is an error naming the column", async () => {
  const text =
    `${URLHAUS_HEADER}\n"1","2026-11-28 11:50:12","","online","","malware_download","","",""\n`;
  assertNothingStored(await importFeed("urlhaus", text), [
    { line: 2, message: /^Column "url" is empty$/ },
  ]);
});

Deno.test("a row with fewer fields than the header is an error at its line", async () => {
  const text = `${URLHAUS_HEADER}\n"1","2026-11-28 11:50:12","http://short.example/"\n`;
  assertNothingStored(await importFeed("urlhaus", text), [
    { line: 2, message: /^Row has 3 fields; the header names 9$/ },
  ]);
});

Deno.test("feed data without any header row is one error", async () => {
  assertNothingStored(await importFeed("urlhaus", '"1","http://a.example/"\n"2","x"\n'), [
    { line: 1, message: /^URLhaus data starts before a header row naming "url"$/ },
  ]);
});

Deno.test("a URLhaus export of comments only imports nothing and succeeds", async () => {
  const imported = await importFeed("urlhaus", `# banner\n${URLHAUS_HEADER}\n`);
  assert.equal(imported.report.committed, true);
  assert.equal(imported.report.records, 0);
});

// --- MalwareBazaar ---

Deno.test("a MalwareBazaar export lists each sample under its sha256, md5 and sha1", async () => {
  const imported = await importFeed("malwarebazaar", await fixture("malwarebazaar.csv"), [
    ["file", EICAR_SHA256],
    ["file", EICAR_MD5],
    ["file", EICAR_SHA1],
  ]);
  assert.equal(imported.report.committed, true, JSON.stringify(imported.report.errors));
  assert.equal(imported.report.records, 3);
  assert.equal(imported.report.keys, 9);
  for (const answer of imported.answers) {
    assert.deepEqual(listing(answer), {
      verdict: "malicious",
      threat: "EICAR",
      source: "malwarebazaar",
      firstSeen: "2026-11-28T11:40:03Z",
    });
  }
});

Deno.test("a MalwareBazaar sample without signature takes the file type, else malware", async () => {
  const imported = await importFeed("malwarebazaar", await fixture("malwarebazaar.csv"), [
    ["file", "9f0f58a149972639b0aae38a465e3898"],
    ["file", "97c69b206503fec6811a0040d4a47c267b5482fb"],
  ]);
  assert.deepEqual(imported.answers.map((a) => a.threat), ["exe", "malware"]);
});

Deno.test("MalwareBazaar columns in another order with only sha256_hash still import", async () => {
  const text = [
    '# "signature","first_seen_utc","sha256_hash"',
    `"AgentTesla", "2026-11-01 00:00:00", "${EICAR_SHA256}"`,
  ].join("\n");
  const imported = await importFeed("malwarebazaar", text, [["file", EICAR_SHA256]]);
  assert.equal(imported.report.keys, 1);
  assert.equal(imported.answers[0].threat, "AgentTesla");
});

Deno.test("a malformed hash in a MalwareBazaar export fails the import at its line", async () => {
  const imported = await importFeed("malwarebazaar", await fixture("malwarebazaar_bad_hash.csv"));
  assertNothingStored(imported, [{
    line: 7,
    message: /^Invalid hash "9f0f58a1[0-9a-f]+": expected 32/,
  }]);
});

Deno.test("a MalwareBazaar header without sha256_hash is one error at the header line", async () => {
  const text = `# "first_seen_utc","md5_hash"\n"2026-11-28 11:40:03", "${EICAR_MD5}"\n`;
  assertNothingStored(await importFeed("malwarebazaar", text), [
    { line: 1, message: /^MalwareBazaar header lacks the "sha256_hash" column/ },
  ]);
});

// --- ThreatFox ---

Deno.test("a ThreatFox export lists each IOC by its type, the ip:port without the port", async () => {
  const imported = await importFeed("threatfox", await fixture("threatfox.csv"), [
    ["ip", "198.51.100.77"],
    ["domain", "c2.evil.example"],
    ["url", "http://payload.example/a.bin"],
    ["file", "906a2a24311af22ffa52f7607d47c6c759d63abde2d06793f3c10b95432f8cdb"],
    ["ip", "2001:db8::5"],
  ]);
  assert.equal(imported.report.committed, true, JSON.stringify(imported.report.errors));
  assert.deepEqual(imported.answers.map(listing), [
    {
      verdict: "malicious",
      threat: "Cobalt Strike",
      categories: ["botnet_cc", "c2", "CobaltStrike"],
      source: "threatfox",
      firstSeen: "2026-11-28T11:50:01Z",
    },
    {
      verdict: "malicious",
      threat: "Agent Tesla",
      categories: ["botnet_cc", "AgentTesla"],
      source: "threatfox",
      firstSeen: "2026-11-28T11:45:12Z",
      lastSeen: "2026-11-28T11:52:00Z",
    },
    // confidence_level 25 is below 50: suspicious.
    {
      verdict: "suspicious",
      threat: "Mirai",
      categories: ["payload_delivery"],
      source: "threatfox",
      firstSeen: "2026-11-28T11:40:00Z",
    },
    {
      verdict: "malicious",
      threat: "Remcos",
      categories: ["payload"],
      source: "threatfox",
      firstSeen: "2026-11-28T11:30:00Z",
    },
    {
      verdict: "malicious",
      threat: "AsyncRAT",
      categories: ["botnet_cc", "AsyncRAT"],
      source: "threatfox",
      firstSeen: "2026-11-28T11:20:00Z",
    },
  ]);
});

Deno.test("ThreatFox needs only ioc_value and ioc_type, in any order", async () => {
  const text = '# "ioc_type","ioc_value"\n"md5_hash", "' + EICAR_MD5 + '"\n';
  const imported = await importFeed("threatfox", text, [["file", EICAR_MD5]]);
  assert.deepEqual(listing(imported.answers[0]), { verdict: "malicious", source: "threatfox" });
});

Deno.test("ThreatFox rows with an unknown ioc_type, a bad ip:port or confidence fail with their lines", async () => {
  const text = [
    '# "ioc_value","ioc_type","confidence_level"',
    '"198.51.100.1:80", "ip:port", "100"',
    '"example.org:80", "hostname", "100"',
    '"198.51.100.2", "ip:port", "100"',
    '"198.51.100.3:80", "ip:port", "high"',
    `"${EICAR_SHA1}", "md5_hash", "50"`,
  ].join("\n");
  assertNothingStored(await importFeed("threatfox", text), [
    {
      line: 3,
      message: /^Unsupported ioc_type "hostname"; expected ip:port, domain, url, md5_hash/,
    },
    { line: 4, message: /^Invalid ip:port "198\.51\.100\.2"/ },
    { line: 5, message: /^Invalid confidence_level "high": expected a whole number 0-100$/ },
    { line: 6, message: /^Field "md5" holds a sha1 digest, not md5$/ },
  ]);
});

Deno.test("a ThreatFox header without ioc_type is one error at the header line", async () => {
  const text = '#\n# "ioc_value","threat_type"\n"evil.example", "botnet_cc"\n';
  assertNothingStored(await importFeed("threatfox", text), [
    { line: 2, message: /^ThreatFox header lacks the "ioc_type" column/ },
  ]);
});

// --- plain lists ---

Deno.test("a plain list infers each line's type and skips comments and blank lines", async () => {
  const imported = await importFeed("list", await fixture("list.txt"), [
    ["file", EICAR_MD5],
    ["ip", "203.0.113.9"],
    ["ip", "2001:db8:bad::1"],
    ["url", "http://phish.example/login"],
    ["domain", "www.tracker.example"],
  ]);
  assert.equal(imported.report.committed, true, JSON.stringify(imported.report.errors));
  assert.equal(imported.report.records, 5);
  assert.equal(imported.report.lines, 9);
  for (const answer of imported.answers) {
    assert.deepEqual(listing(answer), { verdict: "malicious", source: "feed-file" });
  }
});

Deno.test("a plain list takes its verdict and source from the options", async () => {
  const imported = await importFeed("list", "ads.example\n", [["domain", "ads.example"]], {
    verdict: "adware",
    source: "adlist",
  });
  assert.deepEqual(listing(imported.answers[0]), { verdict: "adware", source: "adlist" });
});

Deno.test("a bad plain-list line fails the import, its number counting comment lines", async () => {
  const text = "# list\n\ngood.example\n# more\n198.51.100.0/33\ntwo values\n";
  assertNothingStored(await importFeed("list", text), [
    { line: 5, message: /^Invalid CIDR "198\.51\.100\.0\/33"/ },
    { line: 6, message: /^Expected one value a line, got "two values"$/ },
  ]);
});

Deno.test("inferType reads hex digests as files, addresses and networks as IPs, :// as URLs", () => {
  const cases: [string, string][] = [
    [EICAR_MD5, "file"],
    [EICAR_SHA1.toUpperCase(), "file"],
    [EICAR_SHA256, "file"],
    ["192.0.2.1", "ip"],
    ["192.0.2.0/24", "ip"],
    ["2001:db8::1", "ip"],
    ["2001:db8::/32", "ip"],
    ["::ffff:192.0.2.1", "ip"],
    ["http://192.0.2.1/x", "url"],
    ["hxxp://not-a-scheme.example/", "url"],
    ["evil.example", "domain"],
    ["deadbeef.example", "domain"],
    ["abcdef", "domain"],
  ];
  for (const [value, type] of cases) assert.equal(inferType(value), type, value);
});

// --- CSV details ---

Deno.test("splitFeedCsv reads quoted fields separated by comma-space and doubled quotes", () => {
  assert.deepEqual(splitFeedCsv('"a", "b, c" ,"say ""hi""",plain,,""'), [
    "a",
    "b, c",
    'say "hi"',
    "plain",
    "",
    "",
  ]);
  assert.throws(
    () => splitFeedCsv('"open, ended'),
    /^InvalidInputError: Not CSV: unterminated quoted field$/,
  );
  assert.throws(() => splitFeedCsv('"a"b'), /expected "," after a quoted field at column 4/);
});

Deno.test("utcTimestamp turns abuse.ch UTC times into ISO 8601 with Z", () => {
  assert.equal(utcTimestamp("2026-11-28 11:50:12"), "2026-11-28T11:50:12Z");
  assert.equal(utcTimestamp("2026-11-28 11:50:12 UTC"), "2026-11-28T11:50:12Z");
  assert.equal(utcTimestamp("2026-11-28"), "2026-11-28");
  assert.equal(utcTimestamp(undefined), undefined);
});

Deno.test("an unparseable date in a feed is an error naming the field", async () => {
  const text = "# url,dateadded\nhttp://a.example/,yesterday\n";
  assertNothingStored(await importFeed("urlhaus", text), [
    { line: 2, message: /^"firstSeen": expected an ISO 8601 date/ },
  ]);
});

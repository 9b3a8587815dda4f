/**
 * The import's hand-written record check beside the zod schema it stands in
 * for: whatever it vouches for, the schema accepts and stores alike, and what
 * it is unsure of it leaves to the schema, so error messages stay the schema's.
 */
import assert from "node:assert/strict";
import { QuickRecords } from "../../src/feeds/_quick_record.ts";
import { recordRows, recordSchema } from "../../src/reputation/mod.ts";
import { toHex } from "../../src/core/mod.ts";
import { type EntryRow, ORIGIN_MIRROR } from "../../src/store/mod.ts";

const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

const BASES: Record<string, unknown>[] = [
  { type: "file", sha256: SHA256, verdict: "malicious", threat: "Trojan.Win32.X" },
  { type: "file", md5: MD5, sha1: SHA1, sha256: SHA256, verdict: "adware", ttl: 86400 },
  { type: "file", value: SHA1, verdict: "clean", firstSeen: 1764682578, lastSeen: 1774127262 },
  { type: "cert", sha1: SHA1, verdict: "suspicious", source: "feed" },
  { type: "cert", value: SHA256, sha256: SHA256, verdict: "malicious" },
  { type: "url", value: "http://example.com/a?b=c", verdict: "phishing", categories: ["x"] },
  { type: "domain", value: "Example.COM", verdict: "malicious" },
  { type: "ip", value: "10.1.2.3/8", verdict: "malicious", threat: "C2" },
];

// Values at and past each limit of the schema, right and wrong types, and text the
// printable rule turns on: controls, a format character, lone surrogates.
const TEXTS = [
  "",
  "a",
  "x".repeat(63),
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(256),
  "x".repeat(257),
  "tab\there",
  "del\x7f",
  "zero\u200bwidth",
  "Ünïcode ✓",
  "\ud800",
  "emoji 😀",
  "  spaced  ",
];
const NUMBERS = [-1, -0, 0, 1, 1.5, 86400, 2_592_000, 2_592_001, 32503680000, 32503680001, 1e300];
const DIGESTS = [
  MD5,
  SHA1,
  SHA256,
  SHA256.toUpperCase(),
  SHA1.slice(0, 39),
  `${SHA1.slice(0, 39)}g`,
  `${SHA1.slice(0, 38)}é1`,
  SHA1.match(/../g)!.join(":"),
  SHA1.match(/../g)!.join(" "),
  "",
];
const OTHERS = [null, true, [], {}, [SHA1], "2026-11-28", "2026-11-28T12:00:00Z", "1"];

const FIELDS: Record<string, unknown[]> = {
  type: ["file", "url", "domain", "ip", "cert", "File", "hash", 1, null],
  value: [...DIGESTS, "x".repeat(8192), "x".repeat(8193), "http://h/", "not a url", "1.2.3.4"],
  md5: DIGESTS,
  sha1: DIGESTS,
  sha256: DIGESTS,
  verdict: ["malicious", "clean", "phishing", "adware", "suspicious", "unknown", "Malicious", 2],
  threat: TEXTS,
  categories: [[], ["a"], ["a", "b", "a"], TEXTS, new Array(32).fill("c"), new Array(33).fill("c")],
  ttl: NUMBERS,
  firstSeen: NUMBERS,
  lastSeen: NUMBERS,
  source: TEXTS,
  extra: [1],
  __proto__: [{ type: "file" }],
};
const CANDIDATES: [string, unknown[]][] = Object.entries(FIELDS).map((
  [field, values],
) => [field, [...values, ...OTHERS]]);

/** A row as the test compares it: the key as hex, whatever buffer holds it. */
function plain(row: EntryRow): Record<string, unknown> {
  return { ...row, key: toHex(row.key) };
}

function outcome(run: () => readonly EntryRow[] | undefined): unknown {
  try {
    return run()?.map(plain);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Checks one record both ways; says whether the quick check vouched for it. */
function agree(raw: unknown): boolean {
  const quick = new QuickRecords(ORIGIN_MIRROR, "import");
  const fast = outcome(() => quick.rows(raw));
  if (fast === undefined) return false;
  const parsed = recordSchema.safeParse(raw);
  assert.ok(parsed.success, `the quick check vouched for what zod rejects: ${JSON.stringify(raw)}`);
  const slow = outcome(() => recordRows(parsed.data, ORIGIN_MIRROR, "import"));
  assert.deepEqual(fast, slow, JSON.stringify(raw));
  return true;
}

/** Records as JSON.parse makes them, so "__proto__" is an own field as in an imported line. */
function* variants(): Generator<unknown> {
  for (const base of BASES) {
    yield JSON.parse(JSON.stringify(base));
    for (const [field, values] of CANDIDATES) {
      for (const value of values) {
        const text = JSON.stringify(base).slice(0, -1) + `,${JSON.stringify(field)}:` +
          `${JSON.stringify(value)}}`;
        yield JSON.parse(text);
      }
    }
    const { verdict: _, ...noVerdict } = base;
    yield noVerdict;
    const { type: __, ...noType } = base;
    yield noType;
  }
  yield* [null, 1, "file", [BASES[0]], {}];
}

Deno.test("the quick record check vouches only for records zod accepts, and stores them alike", () => {
  for (const raw of variants()) agree(raw);
  // The common shapes must stay covered, or imports slow down without a failing test.
  for (const base of BASES) assert.ok(agree(base), `not vouched for: ${JSON.stringify(base)}`);
});

Deno.test("the quick record check agrees with zod on random records", () => {
  // A fixed seed: a failure repeats.
  let seed = 42;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const fields = CANDIDATES;
  for (let i = 0; i < 20_000; i++) {
    const record: Record<string, unknown> = { ...BASES[random(BASES.length)] };
    for (let n = random(4); n > 0; n--) {
      const [field, values] = fields[random(fields.length)];
      if (field === "__proto__") continue;
      record[field] = values[random(values.length)];
    }
    agree(record);
  }
});

Deno.test("the quick record check takes the common file record without zod", () => {
  const quick = new QuickRecords(ORIGIN_MIRROR, "import");
  const rows = quick.rows({
    type: "file",
    md5: MD5,
    sha256: SHA256.toUpperCase(),
    verdict: "malicious",
  });
  assert.deepEqual(rows?.map((row) => toHex(row.key)), [`01${MD5}`, `01${SHA256}`]);
  assert.equal(quick.rows({ type: "file", md5: SHA1, verdict: "malicious" }), undefined);
});

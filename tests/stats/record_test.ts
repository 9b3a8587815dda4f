import assert from "node:assert/strict";
import { checkRecord, fileExtension, stripUrl } from "../../src/stats/mod.ts";
import { noon, record } from "./_stats.ts";

/** The node's clock in these checks: noon on the day the sample record was detected. */
const NOW = { now: noon("2026-11-28") };

function rejection(input: unknown): string {
  const check = checkRecord(input, NOW);
  assert.equal(check.ok, false, `rejected: ${JSON.stringify(input)}`);
  return (check as { message: string }).message;
}

function stored(input: unknown): Record<string, unknown> {
  const check = checkRecord(input, NOW);
  assert.ok(check.ok, JSON.stringify(check));
  return JSON.parse(JSON.stringify(check.record));
}

Deno.test("a record with personal fields is rejected naming the unknown field", () => {
  for (const field of ["clientIp", "userName", "hostName", "computerName", "ip", "email"]) {
    const message = rejection(record({ [field]: "alice" }));
    assert.equal(message, `Field "${field}": unknown field, not stored`);
  }
});

Deno.test("a file path is stored as its lower-case extension only", () => {
  const cases: [string, string | undefined][] = [
    ["C:\\Users\\alice\\Documents\\Invoice.PDF", "pdf"],
    ["/home/bob/Downloads/setup.tar.gz", "gz"],
    ["C:\\Users\\alice\\AppData\\dropper.exe", "exe"],
    ["/home/bob/.bashrc", undefined],
    ["C:\\Users\\alice\\noextension", undefined],
    ["/srv/share/report.alice smith secret", undefined],
    ["", undefined],
  ];
  for (const [path, extension] of cases) {
    for (const field of ["filePath", "path"]) {
      const r = stored(record({ [field]: path }));
      assert.equal(r.fileExtension, extension, `${field} ${path}`);
      assert.ok(!("filePath" in r) && !("path" in r), "the path itself is not stored");
      assert.ok(!JSON.stringify(r).includes("alice"), "no user name from the path");
    }
  }
});

Deno.test("fileExtension reads Windows and POSIX paths", () => {
  assert.equal(fileExtension("a/b\\c.Doc"), "doc");
  assert.equal(fileExtension("c.d/e"), null);
  assert.equal(fileExtension("name."), null);
});

Deno.test("a URL or referer keeps scheme, host and path only", () => {
  const cases: [string, string | null][] = [
    [
      "https://alice:secret@Evil.Example:8443/dl/x.exe?user=alice&t=1#frag",
      "https://evil.example/dl/x.exe",
    ],
    ["http://evil.example", "http://evil.example/"],
    ["ftp://files.example/pub/a.zip", "ftp://files.example/pub/a.zip"],
    ["http://192.0.2.7:8080/p?q", "http://192.0.2.7/p"],
    ["javascript:alert(1)", null],
    ["mailto:alice@example.com", null],
    ["not a url", null],
  ];
  for (const [input, expected] of cases) assert.equal(stripUrl(input), expected, input);
  const r = stored(record({ url: cases[0][0], referer: "https://search.example/q?s=alice" }));
  assert.equal(r.url, "https://evil.example/dl/x.exe");
  assert.equal(r.referer, "https://search.example/q");
  assert.match(rejection(record({ url: "mailto:alice@example.com" })), /^Field "url": /);
});

Deno.test("a stored record keeps the allowed fields in a fixed order", () => {
  const r = stored(record({
    md5: "44D88612FEA8A8F36DE82E1278ABB02F",
    detectedAt: "2026-11-28T13:59:00+02:00",
    url: "https://evil.example/x",
    databaseVersion: "2026.11.27.1",
  }));
  assert.deepEqual(Object.keys(r), [
    "detectedAt",
    "detectionType",
    "verdict",
    "decision",
    "threat",
    "md5",
    "sha256",
    "size",
    "fileType",
    "url",
    "productVersion",
    "databaseVersion",
    "databaseDate",
    "statisticsVersion",
    "receivedAt",
  ]);
  assert.equal(r.md5, "44d88612fea8a8f36de82e1278abb02f");
  assert.equal(r.detectedAt, "2026-11-28T11:59:00.000Z");
});

Deno.test("a record missing a required field or with a wrong value is rejected with the field", () => {
  const { detectedAt: _, ...undated } = record();
  assert.equal(rejection(undated), 'Field "detectedAt": required');
  assert.match(rejection(record({ verdict: "evil" })), /^Field "verdict": expected one of /);
  assert.match(rejection(record({ md5: "xyz" })), /^Field "md5": expected 32 hex digits/);
  assert.match(rejection(record({ statisticsVersion: 2 })), /^Field "statisticsVersion": /);
  assert.match(rejection(record({ size: -1 })), /^Field "size": /);
  assert.match(rejection(record({ threat: "a\u0000b" })), /^Field "threat": /);
  assert.equal(rejection([record()]), "Expected a JSON object");
  assert.equal(rejection("text"), "Expected a JSON object");
});

Deno.test("a stored record without receivedAt is valid input again (for a parent node)", () => {
  const first = stored(record({
    filePath: "C:\\Users\\alice\\x.EXE",
    url: "https://u:p@evil.example:81/a?b#c",
    detectedAt: "2026-11-28T13:59:00+02:00",
  }));
  const { receivedAt: _, ...forwarded } = first;
  assert.deepEqual(stored(forwarded), first);
});

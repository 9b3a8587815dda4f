import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, ROOT, runCli, tempDir, writeNdjson } from "../_helpers.ts";
import { assertNoStackTrace } from "./_cli.ts";

const FEEDS = join(ROOT, "tests/testdata/feeds");

/** Runs `pksn lookup TYPE VALUE --data DIR` and returns the parsed answer. */
async function lookup(
  dataDir: string,
  type: string,
  value: string,
): Promise<Record<string, unknown>> {
  const result = await runCli(["lookup", type, value, "--data", dataDir]);
  assert.equal(result.code, 0, `lookup exits 0: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Runs `pksn import FILE --format FORMAT [EXTRA…] --data DIR`. */
async function importFeed(
  file: string,
  format: string,
  dataDir: string,
  options: { extra?: string[]; stdin?: string } = {},
): Promise<CliResult> {
  const args = ["import", file, "--format", format, ...options.extra ?? [], "--data", dataDir];
  return await runCli(args, { stdin: options.stdin });
}

/** The import report on stderr, without log lines (they start with a timestamp). */
function reportLines(stderr: string): string[] {
  return stderr.trimEnd().split("\n").filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l));
}

Deno.test("import --format urlhaus lists the export's URLs as malicious from source urlhaus", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const imported = await importFeed(join(FEEDS, "urlhaus.csv"), "urlhaus", data);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^Imported 3 records \(3 keys\) into the mirror from /);
  const answer = await lookup(data, "url", "https://files.evil.example/update/invoice.exe");
  assert.equal(answer.verdict, "malicious");
  assert.equal(answer.threat, "malware_download");
  assert.equal(answer.source, "urlhaus");
  assert.deepEqual(answer.categories, ["exe", "AgentTesla"]);
});

Deno.test("import --format malwarebazaar makes a sample findable by its sha1", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(FEEDS, "malwarebazaar.csv");
  const imported = await importFeed(file, "malwarebazaar", data);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^Imported 3 records \(9 keys\)/);
  const answer = await lookup(data, "file", "3395856ce81f2b7382dee72602f798b642f14140");
  assert.equal(answer.verdict, "malicious");
  assert.equal(answer.threat, "EICAR");
  assert.equal(answer.source, "malwarebazaar");
  assert.equal(answer.firstSeen, "2026-11-28T11:40:03Z");
});

Deno.test("import --format threatfox lists an ip:port IOC under the address", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(FEEDS, "threatfox.csv");
  const imported = await importFeed(file, "threatfox", data);
  assert.equal(imported.code, 0, imported.stderr);
  const answer = await lookup(data, "ip", "198.51.100.77");
  assert.equal(answer.verdict, "malicious");
  assert.equal(answer.threat, "Cobalt Strike");
  assert.equal(answer.source, "threatfox");
  const lowConfidence = await lookup(data, "url", "http://payload.example/a.bin");
  assert.equal(lowConfidence.verdict, "suspicious");
});

Deno.test("import --format list takes --verdict and names the file as source", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(FEEDS, "list.txt");
  const imported = await importFeed(file, "list", data, { extra: ["--verdict", "phishing"] });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^Imported 5 records/);
  const answer = await lookup(data, "url", "http://phish.example/login");
  assert.equal(answer.verdict, "phishing");
  assert.equal(answer.source, "list.txt");
});

Deno.test('import "-" --format list --source reads a list from standard input', async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const imported = await importFeed("-", "list", data, {
    extra: ["--source", "blocklist"],
    stdin: "# from a pipe\n198.51.100.0/24\n",
  });
  assert.equal(imported.code, 0, imported.stderr);
  const answer = await lookup(data, "ip", "198.51.100.200");
  assert.equal(answer.verdict, "malicious");
  assert.equal(answer.source, "blocklist");
});

Deno.test("a malformed hash in a MalwareBazaar export exits 1 with FILE:LINE and stores nothing", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(FEEDS, "malwarebazaar_bad_hash.csv");
  const imported = await importFeed(file, "malwarebazaar", data);
  assert.equal(imported.code, 1);
  assertNoStackTrace(imported.stderr);
  const lines = reportLines(imported.stderr);
  assert.match(lines[0], new RegExp(`^${file}:7: Invalid hash "9f0f58a1`));
  assert.equal(lines[1], `Nothing imported from "${file}": 1 of 7 lines have errors`);
  assert.equal(imported.stdout, "");
  // The good sample on line 6 went nowhere either.
  const answer = await lookup(data, "file", "44d88612fea8a8f36de82e1278abb02f");
  assert.equal(answer.verdict, "unknown");
});

Deno.test("an invalid URL in a URLhaus export exits 1 naming FILE:LINE and stores nothing", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(FEEDS, "urlhaus_bad_url.csv");
  const imported = await importFeed(file, "urlhaus", data);
  assert.equal(imported.code, 1);
  const lines = reportLines(imported.stderr);
  assert.match(lines[0], new RegExp(`^${file}:7: Invalid URL "gopher://old.example/1"`));
  assert.equal((await lookup(data, "url", "http://fine.example/x")).verdict, "unknown");
});

Deno.test("a ThreatFox export missing a column exits 1 with one error at the header line", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "threatfox.csv");
  await Deno.writeTextFile(
    file,
    '#####\n# ThreatFox IOCs\n#\n# "first_seen_utc","ioc_value","threat_type"\n' +
      '"2026-11-28 11:50:01", "evil.example", "botnet_cc"\n' +
      '"2026-11-28 11:50:02", "worse.example", "botnet_cc"\n',
  );
  const imported = await importFeed(file, "threatfox", join(dir.path, "data"));
  assert.equal(imported.code, 1);
  assert.deepEqual(reportLines(imported.stderr), [
    `${file}:4: ThreatFox header lacks the "ioc_type" column; found: first_seen_utc, ioc_value, threat_type`,
    // The file has six lines; the import stopped reading at the header, yet counts them all.
    `Nothing imported from "${file}": 1 of 6 lines have errors`,
  ]);
});

Deno.test("import --verdict with a format other than list exits 2", async () => {
  await using dir = await tempDir();
  const file = join(FEEDS, "urlhaus.csv");
  const imported = await importFeed(file, "urlhaus", dir.path, { extra: ["--verdict", "clean"] });
  assert.equal(imported.code, 2);
  assert.match(imported.stderr, /--verdict applies only to "--format list"/);
});

Deno.test("import --format list --verdict unknown exits 2 listing the verdicts", async () => {
  await using dir = await tempDir();
  const file = join(FEEDS, "list.txt");
  const imported = await importFeed(file, "list", dir.path, { extra: ["--verdict", "unknown"] });
  assert.equal(imported.code, 2);
  assert.match(
    imported.stderr,
    /Unknown verdict "unknown": expected one of clean, malicious, phishing, adware, suspicious/,
  );
});

Deno.test("import --format ndjson still reads NDJSON from a file with another extension", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = await writeNdjson(dir.path, "export.txt", [
    { type: "domain", value: "own-format.example", verdict: "adware" },
  ]);
  const imported = await importFeed(file, "ndjson", data);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal((await lookup(data, "domain", "own-format.example")).verdict, "adware");
});

Deno.test("import --help lists the feed formats", async () => {
  const help = await runCli(["import", "--help"]);
  assert.equal(help.code, 0);
  for (const format of ["urlhaus", "malwarebazaar", "threatfox", "list", "--verdict"]) {
    assert.match(help.stdout, new RegExp(format));
  }
});

Deno.test("import recognises URLhaus, MalwareBazaar and ThreatFox exports by their header without --format", async () => {
  for (
    const [file, format, records] of [
      ["urlhaus.csv", "urlhaus", 3],
      ["malwarebazaar.csv", "malwarebazaar", 3],
      ["threatfox.csv", "threatfox", 5],
    ] as const
  ) {
    await using dir = await tempDir();
    const path = join(ROOT, "tests/testdata/feeds", file);
    const result = await runCli(["import", path, "--data", dir.path]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`Recognised ".*${file}" as a ${format} export by its header`),
    );
    assert.match(result.stdout, new RegExp(`^Imported ${records} records `));
  }
});

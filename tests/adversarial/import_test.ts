/**
 * Issue 9, the import findings: a URLhaus line whose url is "not a url" was
 * listed as `http://not%20a%20url/`, and two lines giving one object different
 * verdicts were taken silently, the last one winning. Each test runs the real
 * `pksn import` as a child and then asks `pksn lookup` what is stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace } from "../cli/_cli.ts";

/** Runs `pksn lookup TYPE VALUE --data DIR` and returns the parsed answer. */
async function lookup(data: string, type: string, value: string): Promise<Record<string, unknown>> {
  const result = await runCli(["lookup", type, value, "--data", data]);
  assert.equal(result.code, 0, `lookup exits 0: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The import report on stderr, without log lines (they start with a timestamp). */
function reportLines(stderr: string): string[] {
  return stderr.trimEnd().split("\n").filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l));
}

const URLHAUS_HEADER = [
  "################################################################",
  "# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #",
  "################################################################",
  "#",
  "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter",
];

function urlhausRow(id: number, url: string): string {
  return `"${id}","2026-11-28 11:50:12","${url}","online","","malware_download","elf",` +
    `"https://urlhaus.abuse.ch/url/${id}/","reporter"`;
}

Deno.test('pksn import refuses a URLhaus line whose url is "not a url", naming FILE:LINE', async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(dir.path, "urlhaus.csv");
  await Deno.writeTextFile(
    file,
    [
      ...URLHAUS_HEADER,
      urlhausRow(1, "http://fine.example/payload.exe"),
      urlhausRow(2, "not a url"),
    ].join("\n") + "\n",
  );
  const imported = await runCli(["import", file, "--format", "urlhaus", "--data", data]);
  assert.equal(imported.code, 1, `import exits 1:\n${imported.stdout}${imported.stderr}`);
  assertNoStackTrace(imported.stderr);
  const lines = reportLines(imported.stderr);
  assert.match(lines[0], new RegExp(`^${file}:7: Invalid URL "not a url": `));
  assert.equal(lines[1], `Nothing imported from "${file}": 1 of 7 lines have errors`);
  assert.equal(imported.stdout, "");
  // Before the fix the line was listed under the host "not%20a%20url".
  assert.equal((await lookup(data, "url", "http://not%20a%20url/")).verdict, "unknown");
  assert.equal((await lookup(data, "url", "http://fine.example/payload.exe")).verdict, "unknown");
});

const CONFLICTING = [
  { type: "domain", value: "evil.example", verdict: "malicious", threat: "Trojan.Agent" },
  { type: "domain", value: "other.example", verdict: "suspicious" },
  { type: "domain", value: "EVIL.example.", verdict: "clean" },
  // The same values again: a repeat, not a conflict.
  { type: "domain", value: "other.example", verdict: "suspicious" },
];

async function writeConflicting(dir: string): Promise<string> {
  const file = join(dir, "feed.ndjson");
  await Deno.writeTextFile(file, CONFLICTING.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

Deno.test("pksn import refuses two lines that give the same object different verdicts, naming both lines", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = await writeConflicting(dir.path);
  const imported = await runCli(["import", file, "--data", data]);
  assert.equal(imported.code, 1, `import exits 1:\n${imported.stdout}${imported.stderr}`);
  assertNoStackTrace(imported.stderr);
  assert.deepEqual(reportLines(imported.stderr), [
    `${file}:3: Conflicts with ${file}:1 over domain "evil.example": ` +
    'verdict "malicious" there, "clean" here; threat "Trojan.Agent" there, none here',
    `"${file}": 1 line gives an earlier line's object other values; ` +
    "--last-wins keeps the last of each",
    `Nothing imported from "${file}": 1 of 4 lines have errors`,
  ]);
  assert.equal(imported.stdout, "");
  // All or nothing: neither line's verdict is stored.
  assert.equal((await lookup(data, "domain", "evil.example")).verdict, "unknown");
  assert.equal((await lookup(data, "domain", "other.example")).verdict, "unknown");
});

Deno.test("pksn import --last-wins keeps the last of two conflicting lines and says how many it overrode", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = await writeConflicting(dir.path);
  const imported = await runCli(["import", file, "--last-wins", "--data", data]);
  assert.equal(imported.code, 0, imported.stderr);
  const out = imported.stdout.trimEnd().split("\n");
  assert.match(out[0], /^Imported 4 records \(4 keys\) into the mirror from /);
  assert.deepEqual(out.slice(1), [
    "1 line repeated an earlier line's object with the same values; the last of each was kept",
    "1 line overrode an earlier line's verdict, threat or categories (--last-wins)",
  ]);
  const evil = await lookup(data, "domain", "evil.example");
  assert.equal(evil.verdict, "clean");
  assert.equal(evil.threat, undefined);
  assert.equal((await lookup(data, "domain", "other.example")).verdict, "suspicious");
});

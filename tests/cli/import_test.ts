import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, tempDir, writeNdjson } from "../_helpers.ts";
import { assertNoStackTrace } from "./_cli.ts";

const EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f";

/** Runs `pksn lookup TYPE VALUE --data DIR` and returns the parsed answer. */
async function lookup(dataDir: string, type: string, value: string): Promise<unknown> {
  const result = await runCli(["lookup", type, value, "--data", dataDir]);
  assert.equal(result.code, 0, `lookup exits 0: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

Deno.test("import loads an NDJSON file into the mirror and lookup answers with the API's JSON", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = await writeNdjson(dir.path, "feed.ndjson", [{
    type: "file",
    md5: EICAR_MD5,
    verdict: "malicious",
    threat: "EICAR-Test-File",
    categories: ["test-file"],
    ttl: 86400,
    firstSeen: "2026-01-01",
    lastSeen: 1793491200,
  }]);
  const imported = await runCli(["import", file, "--data", data]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^Imported 1 records \(1 keys\) into the mirror from /);
  assert.deepEqual(await lookup(data, "file", EICAR_MD5), {
    type: "file",
    value: EICAR_MD5,
    verdict: "malicious",
    threat: "EICAR-Test-File",
    categories: ["test-file"],
    ttl: 86400,
    source: "feed.ndjson",
    firstSeen: "2026-01-01T00:00:00Z",
    lastSeen: "2026-11-01T00:00:00Z",
    via: "mirror",
  });
});

Deno.test("import reads CSV with a header row, splitting categories on semicolons", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(dir.path, "feed.csv");
  await Deno.writeTextFile(
    file,
    "verdict,type,value,categories,ttl,threat\n" +
      'phishing,url,http://bank.example/login/,"phishing;bank",600,"Phish, Bank"\n',
  );
  const imported = await runCli(["import", file, "--data", data]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.deepEqual(await lookup(data, "url", "http://bank.example/login/"), {
    type: "url",
    value: "http://bank.example/login/",
    verdict: "phishing",
    threat: "Phish, Bank",
    categories: ["phishing", "bank"],
    ttl: 600,
    source: "feed.csv",
    match: { type: "url", value: "bank.example/login/" },
    via: "mirror",
  });
});

Deno.test("import --override writes a local override that wins over the mirror entry", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const mirror = await writeNdjson(dir.path, "mirror.ndjson", [
    { type: "domain", value: "intranet.example", verdict: "malicious", threat: "Feed.Mistake" },
  ]);
  const local = await writeNdjson(dir.path, "allow.ndjson", [
    { type: "domain", value: "intranet.example", verdict: "clean", source: "operator" },
  ]);
  assert.equal((await runCli(["import", mirror, "--data", data])).code, 0);
  const overridden = await runCli(["import", local, "--override", "--data", data]);
  assert.equal(overridden.code, 0, overridden.stderr);
  assert.match(overridden.stdout, /into local overrides/);
  assert.deepEqual(await lookup(data, "domain", "intranet.example"), {
    type: "domain",
    value: "intranet.example",
    verdict: "clean",
    ttl: 3600,
    source: "operator",
    override: true,
    match: { type: "domain", value: "intranet.example" },
    via: "override",
  });
});

Deno.test('import "-" reads NDJSON from standard input', async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const stdin = JSON.stringify({ type: "ip", value: "198.51.100.0/24", verdict: "suspicious" }) +
    "\n";
  const imported = await runCli(["import", "-", "--data", data], { stdin });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^Imported 1 records .* from "-"/);
  const answer = await lookup(data, "ip", "198.51.100.9") as Record<string, unknown>;
  assert.equal(answer.verdict, "suspicious");
  assert.equal(answer.source, "import");
});

Deno.test("import --source names the source of records that carry none", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = await writeNdjson(dir.path, "x.ndjson", [
    { type: "domain", value: "a.example", verdict: "adware" },
  ]);
  const imported = await runCli(["import", file, "--source", "vendor-feed", "--data", data]);
  assert.equal(imported.code, 0, imported.stderr);
  const answer = await lookup(data, "domain", "a.example") as Record<string, unknown>;
  assert.equal(answer.source, "vendor-feed");
});

Deno.test("import of a file with bad lines exits 1, lists every bad line as FILE:LINE and imports nothing", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(dir.path, "mixed.ndjson");
  await Deno.writeTextFile(
    file,
    [
      JSON.stringify({ type: "domain", value: "good-one.example", verdict: "malicious" }),
      JSON.stringify({ type: "file", value: "zz", verdict: "malicious" }),
      "this is not json",
      JSON.stringify({ type: "ip", value: "192.0.2.1", verdict: "evil" }),
      JSON.stringify({ type: "domain", value: "good-two.example", verdict: "phishing" }),
      JSON.stringify({ type: "domain", value: "x.example", verdict: "clean", colour: "red" }),
    ].join("\n") + "\n",
  );
  const imported = await runCli(["import", file, "--data", data]);
  assert.equal(imported.code, 1);
  assertNoStackTrace(imported.stderr);
  // Log lines (they start with a timestamp) may come first; the report follows.
  const lines = imported.stderr.trimEnd().split("\n").filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l));
  assert.deepEqual(lines.slice(0, 4).map((l) => l.slice(0, l.indexOf(": "))), [
    `${file}:2`,
    `${file}:3`,
    `${file}:4`,
    `${file}:6`,
  ]);
  assert.match(lines[0], /: Invalid hash "zz": /);
  assert.match(lines[1], /: not JSON: /);
  assert.match(lines[2], /: "verdict": expected one of clean, malicious/);
  assert.match(lines[3], /: unknown field "colour"/);
  assert.equal(lines[4], `Nothing imported from "${file}": 4 of 6 lines have errors`);
  assert.equal(imported.stdout, "");
});

Deno.test("a failed import leaves no good record from the same file behind", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(dir.path, "mixed.ndjson");
  await Deno.writeTextFile(
    file,
    JSON.stringify({ type: "domain", value: "good.example", verdict: "malicious" }) +
      "\n{broken\n",
  );
  assert.equal((await runCli(["import", file, "--data", data])).code, 1);
  const answer = await lookup(data, "domain", "good.example") as Record<string, unknown>;
  assert.equal(answer.verdict, "unknown");
  assert.equal(answer.source, "none");
});

Deno.test("import of a missing file exits 1 naming the file and creates no data folder", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const file = join(dir.path, "no-such.ndjson");
  const imported = await runCli(["import", file, "--data", data]);
  assert.equal(imported.code, 1);
  assertNoStackTrace(imported.stderr);
  assert.match(imported.stderr, new RegExp(`Cannot read "${file}": No such file`));
  await assert.rejects(Deno.stat(data), Deno.errors.NotFound);
});

Deno.test("import --format xml exits 2 naming the format", async () => {
  await using dir = await tempDir();
  const file = await writeNdjson(dir.path, "x.ndjson", []);
  const imported = await runCli(["import", file, "--format", "xml", "--data", dir.path]);
  assert.equal(imported.code, 2);
  assert.equal(
    imported.stderr,
    'pksn: Unknown format "xml": expected one of "ndjson", "csv", "urlhaus", "malwarebazaar", ' +
      '"threatfox", "list"\n',
  );
});

Deno.test("import without a FILE exits 2 and points to import --help", async () => {
  await using dir = await tempDir();
  const imported = await runCli(["import", "--data", dir.path]);
  assert.equal(imported.code, 2);
  assert.match(imported.stderr, /Expected exactly one FILE; see "pksn import --help"/);
});

Deno.test({
  // BUG: src/cli/import.ts opens FILE with Deno.open (line ~70) but the read
  // error only surfaces inside importRecords/readLines, where nothing turns it
  // into an AppError: "pksn import DIR" dies with "Uncaught IsADirectory" and a
  // stack trace. Fix: Deno.stat the path first and reject non-files with
  // `Cannot read "DIR": not a file`, or wrap read errors in import.ts into a
  // StoreError/InvalidInputError with the file name.
  name: "import of a directory exits 1 with a message naming it, not a stack trace",
  async fn(): Promise<void> {
    await using dir = await tempDir();
    const imported = await runCli(["import", dir.path, "--data", join(dir.path, "data")]);
    assert.equal(imported.code, 1);
    assertNoStackTrace(imported.stderr);
    assert.match(imported.stderr, new RegExp(`"${dir.path}"`));
  },
});

Deno.test({
  // BUG: an invalid UTF-8 line is reported as "pksn: Line 2: not valid UTF-8"
  // (src/core/lines.ts throws, src/cli/import.ts never sees a line report), so
  // unlike every other bad line it lacks the FILE:LINE form and stops the
  // listing. Fix: have readLines yield an error marker (or importRecords catch
  // InvalidInputError from the reader) and report it via report.errors, so
  // import.ts prints `FILE:2: not valid UTF-8`.
  name: "import reports an invalid UTF-8 line as FILE:LINE like any other bad line",
  async fn(): Promise<void> {
    await using dir = await tempDir();
    const file = join(dir.path, "latin1.ndjson");
    await Deno.writeFile(
      file,
      new Uint8Array([
        ...new TextEncoder().encode('{"type":"domain","value":"a.example","verdict":"clean"}\n'),
        ...new TextEncoder().encode('{"type":"domain","value":"caf'),
        0xe9,
        ...new TextEncoder().encode('.example","verdict":"clean"}\n'),
      ]),
    );
    const imported = await runCli(["import", file, "--data", join(dir.path, "data")]);
    assert.equal(imported.code, 1);
    assert.match(imported.stderr, new RegExp(`^${file}:2: .*UTF-8`, "m"));
  },
});

Deno.test("a failed import counts the file's own lines, blank ones included", async () => {
  await using dir = await tempDir();
  const good = (n: number): string =>
    JSON.stringify({ type: "file", md5: n.toString(16).padStart(32, "0"), verdict: "malicious" });
  const file = join(dir.path, "nine.ndjson");
  await Deno.writeTextFile(
    file,
    [good(1), good(2), "", good(3), "not json", good(4), "", good(5), good(6)].join("\n") + "\n",
  );
  const result = await runCli(["import", file, "--data", join(dir.path, "data")]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /nine\.ndjson:5: not JSON/);
  assert.match(result.stderr, /Nothing imported from ".*nine\.ndjson": 1 of 9 lines have errors/);
});

Deno.test("import --single-thread reads its lines on the writing thread and stores the same", async () => {
  await using dir = await tempDir();
  const records = [
    { type: "file", md5: EICAR_MD5, verdict: "malicious", threat: "EICAR-Test-File" },
    { type: "domain", value: "bad.example", verdict: "phishing", categories: ["bank"] },
  ];
  const file = await writeNdjson(dir.path, "feed.ndjson", records);
  const env = { PKSN_LOG_LEVEL: "debug" };
  const answers: unknown[] = [];
  for (const [flags, thread] of [[[], "a second one"], [["--single-thread"], "the writing one"]]) {
    const data = join(dir.path, `data-${flags.length}`);
    const imported = await runCli(["import", file, "--data", data, ...flags as string[]], { env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^Imported 2 records \(2 keys\) into the mirror/);
    assert.match(imported.stderr, new RegExp(`Read the import's lines thread="${thread}"`));
    answers.push([
      await lookup(data, "file", EICAR_MD5),
      await lookup(data, "domain", "bad.example"),
    ]);
  }
  assert.deepEqual(answers[1], answers[0]);
});

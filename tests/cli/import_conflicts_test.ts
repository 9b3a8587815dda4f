/** Conflicting lines in `pksn import` of feed exports and in `pksn feed build --input`. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateKeyFile } from "../../src/feed/signing.ts";
import { type CliResult, ROOT, runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace } from "./_cli.ts";

const PORTS = join(ROOT, "tests/testdata/feeds/threatfox_ports.csv");

/** The report on stderr, without log lines (they start with a timestamp). */
function reportLines(stderr: string): string[] {
  return stderr.trimEnd().split("\n").filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l));
}

const CONFLICT_LINE = `${PORTS}:9: Conflicts with ${PORTS}:7 over ip "198.51.100.77": ` +
  'threat "Cobalt Strike" there, "AsyncRAT" here';

Deno.test("import --format threatfox of one address under two families exits 1 naming both lines", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const imported = await runCli(["import", PORTS, "--format", "threatfox", "--data", data]);
  assert.equal(imported.code, 1);
  assertNoStackTrace(imported.stderr);
  const lines = reportLines(imported.stderr);
  assert.equal(lines[0], CONFLICT_LINE);
  assert.match(lines[1], /1 line gives an earlier line's object other values; --last-wins/);
  assert.equal(lines[2], `Nothing imported from "${PORTS}": 1 of 10 lines have errors`);
});

Deno.test("import --format threatfox --last-wins stores the last family and counts the repeat", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const args = ["import", PORTS, "--format", "threatfox", "--last-wins", "--data", data];
  const imported = await runCli(args);
  assert.equal(imported.code, 0, imported.stderr);
  assert.deepEqual(imported.stdout.trimEnd().split("\n").slice(1), [
    "1 line repeated an earlier line's object with the same values; the last of each was kept",
    "1 line overrode an earlier line's verdict, threat or categories (--last-wins)",
  ]);
  const answer = await runCli(["lookup", "ip", "198.51.100.77", "--data", data]);
  assert.equal(JSON.parse(answer.stdout).threat, "AsyncRAT");
});

async function initFeed(dir: string): Promise<{ out: string; timestampKey: string }> {
  const out = join(dir, "feed");
  const keys = [join(dir, "root.key"), join(dir, "timestamp.key")];
  for (const key of keys) await Deno.writeTextFile(key, JSON.stringify(await generateKeyFile()));
  const init = await runCli(
    ["feed", "init", "--out", out, "--root-key", keys[0], "--timestamp-key", keys[1]],
  );
  assert.equal(init.code, 0, init.stderr);
  return { out, timestampKey: keys[1] };
}

function build(feed: { out: string; timestampKey: string }, ...args: string[]): Promise<CliResult> {
  return runCli([
    "feed",
    "build",
    "--out",
    feed.out,
    "--timestamp-key",
    feed.timestampKey,
    ...args,
  ]);
}

Deno.test("feed build --input refuses conflicting lines of one file, and --last-wins publishes the last", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const refused = await build(feed, "--input", PORTS, "--format", "threatfox");
  assert.equal(refused.code, 1);
  assertNoStackTrace(refused.stderr);
  const lines = reportLines(refused.stderr);
  assert.equal(lines[0], CONFLICT_LINE);
  assert.equal(lines.at(-1), "Nothing published: fix the lines above and build again");
  assert.equal(
    await Deno.stat(join(feed.out, "timestamp.json")).then(() => true, () => false),
    false,
  );

  const built = await build(feed, "--input", PORTS, "--format", "threatfox", "--last-wins");
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /overrode an earlier line's verdict, threat or categories/);
  assert.match(built.stdout, /Published version 1 to .*: 2 keys, 2 added/);
});

Deno.test("feed build --last-wins with --from-db exits 2", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const result = await build(feed, "--from-db", join(dir.path, "x.db"), "--last-wins");
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--last-wins applies only to --input/);
});

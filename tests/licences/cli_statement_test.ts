/** `pksn statement` and `pksn participation`: the operator's side of KSN participation. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace } from "../cli/_cli.ts";

/** Runs `pksn ARGS --data DIR`. */
async function pksn(dataDir: string, args: string[]): Promise<CliResult> {
  return await runCli([...args, "--data", dataDir]);
}

/** Runs `pksn ARGS --data DIR`, asserts exit 0 and returns stdout. */
async function ok(dataDir: string, args: string[]): Promise<string> {
  const result = await pksn(dataDir, args);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Runs `pksn ARGS --data DIR`, asserts exit `code` without a stack trace and returns stderr. */
async function fails(dataDir: string, args: string[], code = 1): Promise<string> {
  const result = await pksn(dataDir, args);
  assert.equal(result.code, code, `${args.join(" ")}:\n${result.stdout}${result.stderr}`);
  assertNoStackTrace(result.stderr);
  return result.stderr;
}

Deno.test("statement show prints the default statement as version 1", async () => {
  await using dir = await tempDir();
  const out = await ok(dir.path, ["statement", "show"]);
  assert.match(out, /^KSN Statement version 1, published \d{4}-\d{2}-\d{2}T/);
  assert.match(out, /participation mode/);
});

Deno.test("statement load FILE publishes the next version and statement show prints it", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "statement.txt");
  await Deno.writeTextFile(file, "KSN Statement, second edition.\nStatistics are kept 30 days.\n");
  const loaded = await ok(dir.path, ["statement", "load", file]);
  assert.match(loaded, /^Published KSN Statement version 2; clients must accept it/);
  const shown = await ok(dir.path, ["statement", "show"]);
  assert.match(shown, /^KSN Statement version 2, /);
  assert.match(shown, /second edition\.\nStatistics are kept 30 days\./);
  const json = JSON.parse(await ok(dir.path, ["statement", "show", "--json"]));
  assert.equal(json.version, 2);
  assert.equal(json.text, "KSN Statement, second edition.\nStatistics are kept 30 days.\n");

  await Deno.writeTextFile(file, "KSN Statement, third edition.\n");
  assert.match(await ok(dir.path, ["statement", "load", file]), /version 3/);
});

Deno.test("statement load with the current text again exits 1 and keeps the version", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "statement.txt");
  await Deno.writeTextFile(file, "Same text\n");
  await ok(dir.path, ["statement", "load", file]);
  await Deno.writeTextFile(file, "  Same text  \n\n");
  const stderr = await fails(dir.path, ["statement", "load", file]);
  assert.match(stderr, /Statement text is the same as the current version 2/);
  assert.match(await ok(dir.path, ["statement", "show"]), /^KSN Statement version 2,/);
});

Deno.test("statement load refuses an empty file (exit 1) and a missing one (exit 2)", async () => {
  await using dir = await tempDir();
  const empty = join(dir.path, "empty.txt");
  await Deno.writeTextFile(empty, " \n\n");
  assert.match(await fails(dir.path, ["statement", "load", empty]), /Statement text is empty/);
  const missing = join(dir.path, "missing.txt");
  assert.match(await fails(dir.path, ["statement", "load", missing], 2), /Cannot read/);
  assert.match(await ok(dir.path, ["statement", "show"]), /^KSN Statement version 1,/);
});

Deno.test("participation show reports a new node as not participating, sending nothing upstream", async () => {
  await using dir = await tempDir();
  const out = await ok(dir.path, ["participation", "show"]);
  assert.match(out, /^Node participation: do-not-participate$/m);
  assert.match(out, /^KSN Statement: not accepted; current version 1$/m);
  assert.match(out, /^May go upstream: nothing$/m);
});

Deno.test("participation set with-statistics without --accept-statement exits 1 and changes nothing", async () => {
  await using dir = await tempDir();
  const stderr = await fails(dir.path, ["participation", "set", "with-statistics"]);
  assert.match(stderr, /requires accepting the current KSN Statement \(version 1\)/);
  assert.match(await ok(dir.path, ["participation", "show"]), /do-not-participate/);
});

Deno.test("participation set with-statistics --accept-statement lets look-ups, statistics and samples go upstream", async () => {
  await using dir = await tempDir();
  const set = await ok(dir.path, [
    "participation",
    "set",
    "with-statistics",
    "--accept-statement",
  ]);
  assert.match(set, /^May go upstream: lookups, statistics, samples$/m);
  const shown = await ok(dir.path, ["participation", "show"]);
  assert.match(shown, /^Node participation: with-statistics$/m);
  assert.match(shown, /^KSN Statement: accepted \(version 1\); current version 1$/m);
  assert.match(shown, /^May go upstream: lookups, statistics, samples$/m);
});

Deno.test("participation set without-statistics lets only look-ups go upstream", async () => {
  await using dir = await tempDir();
  const out = await ok(dir.path, [
    "participation",
    "set",
    "without-statistics",
    "--accept-statement",
    "--json",
  ]);
  const state = JSON.parse(out);
  assert.equal(state.mode, "without-statistics");
  assert.deepEqual(state.upstream, { lookups: true, statistics: false, samples: false });
});

Deno.test("after statement load the node's earlier acceptance no longer lets anything upstream", async () => {
  await using dir = await tempDir();
  await ok(dir.path, ["participation", "set", "with-statistics", "--accept-statement"]);
  const file = join(dir.path, "statement.txt");
  await Deno.writeTextFile(file, "A new statement\n");
  await ok(dir.path, ["statement", "load", file]);
  const shown = await ok(dir.path, ["participation", "show"]);
  assert.match(shown, /^KSN Statement: not accepted; current version 2$/m);
  assert.match(shown, /^May go upstream: nothing$/m);
  const again = await ok(dir.path, [
    "participation",
    "set",
    "with-statistics",
    "--accept-statement",
  ]);
  assert.match(again, /accepted \(version 2\)/);
  assert.match(again, /^May go upstream: lookups, statistics, samples$/m);
});

Deno.test("participation set with an unknown mode exits 1 listing the modes", async () => {
  await using dir = await tempDir();
  const stderr = await fails(dir.path, [
    "participation",
    "set",
    "everything",
    "--accept-statement",
  ]);
  assert.match(stderr, /Unknown node participation mode "everything": expected one of /);
  assert.match(stderr, /do-not-participate/);
});

Deno.test("participation changes are in the audit log with the actor", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [
    "participation",
    "set",
    "without-statistics",
    "--accept-statement",
    "--actor",
    "ops",
  ]);
  const entries = JSON.parse(await ok(dir.path, ["license", "audit", "--json"]));
  assert.equal(entries[0].actor, "cli:ops");
  assert.equal(entries[0].action, "node.participation");
  assert.deepEqual(entries[0].detail, { mode: "without-statistics", statementAccepted: 1 });
});

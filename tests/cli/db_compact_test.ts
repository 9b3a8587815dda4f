/** `pksn db compact`: the file shrinks to its data, the data stays, and a served folder is refused. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { lockDataDir } from "../../src/store/lock.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace, seedDataDir } from "./_cli.ts";

const md5 = (i: number): string => i.toString(16).padStart(32, "0");

function records(from: number, count: number): object[] {
  return Array.from({ length: count }, (_, i) => ({
    type: "file",
    md5: md5(from + i),
    verdict: "malicious",
    threat: `Threat.${(from + i) % 7}`,
  }));
}

Deno.test("db compact gives freed pages back and keeps every row", async () => {
  await using dir = await tempDir();
  await seedDataDir(dir.path, records(0, 20_000));
  const path = join(dir.path, "pksn.db");
  // Free most of the file's pages, as a dropped table or a large deletion does.
  const db = new DatabaseSync(path);
  db.exec("DELETE FROM entry WHERE key > x'0100000000000000000000000000000ff0'");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const kept = (db.prepare("SELECT count(*) AS n FROM entry").get() as { n: number }).n;
  db.close();
  assert.ok(kept > 0 && kept < 20_000, `${kept} rows kept`);
  const before = (await Deno.stat(path)).size;

  const result = await runCli(["db", "compact", "--data", dir.path]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Compacted ".*pksn\.db" from [\d.]+ MB to [\d.]+ MB \(\d+ free pages given back\) in [\d.]+ s$/m,
  );
  const after = (await Deno.stat(path)).size;
  assert.ok(after < before / 2, `${before} bytes before, ${after} after`);

  const check = await runCli(["db", "check", "--data", dir.path]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const look = await runCli(["lookup", "file", md5(3), "--data", dir.path]);
  assert.equal(look.code, 0, look.stderr);
  assert.equal(JSON.parse(look.stdout).verdict, "malicious");
  assert.equal(JSON.parse(look.stdout).threat, "Threat.3");
});

Deno.test("db compact refuses a data folder pksn serve holds, naming the holder", async () => {
  await using dir = await tempDir();
  await seedDataDir(dir.path, records(0, 10));
  using _lock = await lockDataDir(dir.path);
  const result = await runCli(["db", "compact", "--data", dir.path]);
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    new RegExp(`Cannot compact the database in data folder ".*": pksn serve with PID ${Deno.pid}`),
  );
  assertNoStackTrace(result.stderr);
});

Deno.test("db compact of a folder without a database says so", async () => {
  await using dir = await tempDir();
  const result = await runCli(["db", "compact", "--data", join(dir.path, "none")]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Cannot compact database ".*pksn\.db": it does not exist/);
  assertNoStackTrace(result.stderr);
});

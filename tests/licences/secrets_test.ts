/**
 * Licence keys are secrets: after every way a key enters the node, no plain key is
 * in the log, any database row, the database files, the audit log or the CLI's
 * listings. Only `license add` without `--key` shows the key it generated, once.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { runCli, tempDir } from "../_helpers.ts";
import {
  acceptStatement,
  addLicence,
  type AuthNode,
  DAY_S,
  lookup,
  request,
  startAuthNode,
} from "./_licences.ts";

const GENERATED_KEY = /PKSN(?:-[0-9A-HJKMNP-TV-Z]{5}){5}/;

/** Every text and blob cell of every table, with where it was found. */
function everyCell(db: DatabaseSync): { where: string; text: string }[] {
  const cells: { where: string; text: string }[] = [];
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
    name: string;
  }[];
  for (const { name } of tables) {
    const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
    rows.forEach((row, i) => {
      for (const [column, value] of Object.entries(row)) {
        const where = `${name}[${i}].${column}`;
        if (typeof value === "string") cells.push({ where, text: value });
        if (value instanceof Uint8Array) {
          cells.push({ where, text: Buffer.from(value).toString("latin1") });
        }
      }
    });
  }
  return cells;
}

/** The raw bytes of the database and its WAL, as text that byte searches can run on. */
async function databaseFiles(dataDir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const file of ["pksn.db", "pksn.db-wal"]) {
    try {
      const bytes = await Deno.readFile(join(dataDir, file));
      out.push({ file, text: Buffer.from(bytes).toString("latin1") });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return out;
}

/** Asserts that no form a client might type of any key occurs in `text`. */
function assertNoKey(keys: readonly string[], text: string, where: string): void {
  for (const key of keys) {
    for (const form of [key, key.toLowerCase()]) {
      assert.ok(!text.includes(form), `key ${form} appears in ${where}`);
    }
  }
}

/** Runs the CLI on the node's data folder and asserts it succeeded. */
async function cli(node: AuthNode, args: string[], stdin?: string): Promise<string> {
  const result = await runCli([...args, "--data", node.dataDir], { stdin });
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout + result.stderr;
}

Deno.test("no licence key appears in the log, the database, its files, the audit log or the CLI listings", async () => {
  await using node = await startAuthNode({
    config: { log: { level: "debug", requests: true } },
  });
  const keys: string[] = [];

  // Every way a key enters: generated in-process, chosen, rotated both ways, imported, piped in.
  keys.push(await addLicence(node, { customer: "Generated Customer" }));
  keys.push(await addLicence(node, { customer: "Chosen Customer", key: "CHOSEN-KEY-4711-SECRET" }));
  const rotated = node.serving.node.licences.rotate(
    "CHOSEN-KEY-4711-SECRET",
    "ROTATED-KEY-0815-SECRET",
    { graceSeconds: 14 * DAY_S },
    "test",
  );
  keys.push(rotated.key);
  keys.push(
    node.serving.node.licences.rotate(keys[0], undefined, { graceSeconds: DAY_S }, "test").key,
  );
  const added = await cli(node, [
    "license",
    "add",
    "--customer",
    "Cli Generated",
    "--expires",
    "2099-12-31",
  ]);
  const printed = added.match(GENERATED_KEY);
  assert.ok(printed, `license add prints the generated key:\n${added}`);
  keys.push(printed[0]);
  await cli(
    node,
    ["license", "add", "--customer", "Cli Piped", "--expires", "2099-12-31", "--key", "-"],
    "PIPED-KEY-9999-SECRET\n",
  );
  keys.push("PIPED-KEY-9999-SECRET");
  const csv = join(node.dataDir, "customers.csv");
  await Deno.writeTextFile(
    csv,
    "key,customer,expires,quota\n" +
      "IMPORTED-KEY-0001-SECRET,Imported One,2099-12-31,100\n" +
      "imported-key-0002-secret,Imported Two,2099-12-31,\n",
  );
  await cli(node, ["license", "import", csv]);
  keys.push("IMPORTED-KEY-0001-SECRET", "IMPORTED-KEY-0002-SECRET");
  await cli(node, ["license", "revoke", "-", "--reason", "test"], "IMPORTED-KEY-0001-SECRET\n");
  node.serving.node.licences.revoke("PIPED-KEY-9999-SECRET", "test");
  await node.serving.node.refreshIfChanged();
  assert.equal(node.serving.node.licences.list().length, 8);

  // Authenticated requests in every form, good and refused.
  for (const key of keys) {
    await request(node, "/v1/participation", { headers: { "x-license-key": key } });
    await request(node, "/v1/node", { headers: { authorization: `Bearer ${key.toLowerCase()}` } });
    await lookup(node, key);
  }
  await acceptStatement(node, rotated.key);
  assert.equal((await lookup(node, rotated.key)).status, 200);
  await lookup(node, "NEVER-REGISTERED-KEY-SECRET");
  keys.push("NEVER-REGISTERED-KEY-SECRET");

  assert.ok(node.logLines.some((l) => l.includes("/v1/participation")), "requests are logged");
  assertNoKey(keys, node.logLines.join("\n"), "the node's log");

  const cells = everyCell(node.serving.node.db);
  assert.ok(cells.some((c) => c.text.includes("Imported Two")), "the scan sees licence rows");
  for (const cell of cells) assertNoKey(keys, cell.text, cell.where);

  const files = await databaseFiles(node.dataDir);
  assert.ok(files.some((f) => f.text.includes("Imported Two")), "the scan sees the raw bytes");
  for (const { file, text } of files) assertNoKey(keys, text, file);

  const audit = await cli(node, ["license", "audit", "--limit", "1000"]);
  assert.match(audit, /licence\.revoke/);
  assertNoKey(keys, audit, "license audit");
  assertNoKey(keys, await cli(node, ["license", "audit", "--json"]), "license audit --json");
  const list = await cli(node, ["license", "list"]);
  assert.match(list, /Imported Two/);
  assertNoKey(keys, list, "license list");
  assertNoKey(keys, await cli(node, ["license", "list", "--json"]), "license list --json");
  for (let id = 1; id <= 8; id++) {
    assertNoKey(keys, await cli(node, ["license", "show", String(id)]), `license show ${id}`);
  }
  assertNoKey(
    keys,
    await cli(node, ["license", "show", "-"], "ROTATED-KEY-0815-SECRET\n"),
    "license show by key",
  );
});

Deno.test("license add shows a generated key once and never again", async () => {
  await using node = await startAuthNode();
  const added = await cli(node, [
    "license",
    "add",
    "--customer",
    "Once Only",
    "--expires",
    "2099-12-31",
  ]);
  const key = added.match(GENERATED_KEY)?.[0];
  assert.ok(key, added);
  assert.match(added, /shown only now/);
  const shown = await cli(node, ["license", "show", "-"], `${key}\n`);
  assert.match(shown, /"customer": "Once Only"/, "the key finds its licence");
  assertNoKey([key], shown, "license show");
  assertNoKey([key], await cli(node, ["license", "list"]), "license list");
});

Deno.test("license add with --key does not echo the operator's key", async () => {
  await using node = await startAuthNode();
  const added = await cli(node, [
    "license",
    "add",
    "--customer",
    "Own Key",
    "--expires",
    "2099-12-31",
    "--key",
    "OWN-KEY-1234-SECRET",
  ]);
  assert.match(added, /Registered licence #1/);
  assertNoKey(["OWN-KEY-1234-SECRET"], added, "license add --key");
});

Deno.test("error messages about a key never contain the key", async () => {
  await using node = await startAuthNode();
  await addLicence(node, { key: "TAKEN-KEY-5555-SECRET" });
  const duplicate = await runCli([
    "license",
    "add",
    "--customer",
    "Duplicate",
    "--expires",
    "2099-12-31",
    "--key",
    "taken-key-5555-secret",
    "--data",
    node.dataDir,
  ]);
  assert.equal(duplicate.code, 1);
  assertNoKey(["TAKEN-KEY-5555-SECRET"], duplicate.stdout + duplicate.stderr, "duplicate error");
  const malformed = await runCli(["license", "show", "BAD KEY!", "--data", node.dataDir]);
  assert.equal(malformed.code, 1);
  assert.doesNotMatch(malformed.stderr, /BAD KEY!/i);
});

Deno.test("the node secret is 32 random bytes readable only by its owner", async () => {
  await using node = await startAuthNode();
  const path = join(node.dataDir, "node.secret");
  const bytes = await Deno.readFile(path);
  assert.equal(bytes.length, 32);
  assert.ok(bytes.some((b) => b !== 0), "not all zero");
  const info = await Deno.stat(path);
  assert.equal((info.mode ?? 0) & 0o777, 0o600);
});

Deno.test("a lost node.secret with licences registered stops the node with advice to restore it", async () => {
  await using dir = await tempDir();
  const added = await runCli([
    "license",
    "add",
    "--customer",
    "Secret Ltd",
    "--expires",
    "2099-12-31",
    "--data",
    dir.path,
  ]);
  assert.equal(added.code, 0, added.stderr);
  await Deno.remove(join(dir.path, "node.secret"));
  const listed = await runCli(["license", "list", "--data", dir.path]);
  assert.equal(listed.code, 1);
  assert.match(listed.stderr, /node\.secret" is missing, but 1 licences are registered: restore/);
  await assert.rejects(Deno.stat(join(dir.path, "node.secret")), Deno.errors.NotFound);
});

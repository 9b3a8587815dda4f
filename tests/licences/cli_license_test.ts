/** `pksn license …` as the service provider runs it, each command in a subprocess. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace } from "../cli/_cli.ts";

const GENERATED_KEY =
  /^Licence key \(shown only now; give it to the customer\): (PKSN(?:-[0-9A-HJKMNP-TV-Z]{5}){5})$/m;

/** Runs `pksn ARGS --data DIR`. */
async function pksn(dataDir: string, args: string[], stdin?: string): Promise<CliResult> {
  return await runCli([...args, "--data", dataDir], { stdin });
}

/** Runs `pksn ARGS --data DIR`, asserts exit 0 and returns stdout. */
async function ok(dataDir: string, args: string[], stdin?: string): Promise<string> {
  const result = await pksn(dataDir, args, stdin);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Runs `pksn ARGS --data DIR`, asserts exit `code` without a stack trace and returns stderr. */
async function fails(dataDir: string, args: string[], code = 1, stdin?: string): Promise<string> {
  const result = await pksn(dataDir, args, stdin);
  assert.equal(result.code, code, `${args.join(" ")}:\n${result.stdout}${result.stderr}`);
  assertNoStackTrace(result.stderr);
  return result.stderr;
}

/** `license list --json`, parsed. */
// deno-lint-ignore no-explicit-any
async function list(dataDir: string): Promise<any[]> {
  return JSON.parse(await ok(dataDir, ["license", "list", "--json"]));
}

/** Writes `text` to `dir/name` and returns the path. */
async function writeCsv(dir: string, text: string, name = "customers.csv"): Promise<string> {
  const file = join(dir, name);
  await Deno.writeTextFile(file, text);
  return file;
}

/**
 * Runs `license import FILE`, asserts it exits 1 without a stack trace and leaves
 * `registered` licences (those from before), and returns stderr.
 */
async function importRefused(dataDir: string, file: string, registered = 0): Promise<string> {
  const stderr = await fails(dataDir, ["license", "import", file]);
  assert.equal((await list(dataDir)).length, registered, "nothing was imported");
  return stderr;
}

const ADD = ["license", "add", "--customer", "Acme GmbH", "--expires", "2099-12-31"];
/** Rotates the operator's key ACME-2026-0001 to ACME-2027-0001 with 14 days' grace. */
const ROTATE = ["license", "rotate", "ACME-2026-0001", "ACME-2027-0001", "--grace", "14d"];

Deno.test("license add without --key prints a generated PKSN-XXXXX key once", async () => {
  await using dir = await tempDir();
  const out = await ok(dir.path, ADD);
  assert.match(out, /^Registered licence #1 for "Acme GmbH" \(key id [0-9a-f]{8}\), valid /);
  assert.match(out, / to 2100-01-01T00:00:00Z/, "valid through the last day given");
  const key = out.match(GENERATED_KEY)?.[1];
  assert.ok(key, out);
  const shown = JSON.parse(await ok(dir.path, ["license", "show", "-"], `${key}\n`));
  assert.equal(shown.id, 1, "the printed key is the registered one");
});

Deno.test("two generated keys differ", async () => {
  await using dir = await tempDir();
  const first = (await ok(dir.path, ADD)).match(GENERATED_KEY)?.[1];
  const second = (await ok(dir.path, ADD)).match(GENERATED_KEY)?.[1];
  assert.ok(first && second);
  assert.notEqual(first, second);
});

Deno.test("license add --key registers the operator's key without printing it, with quota, modes and notes", async () => {
  await using dir = await tempDir();
  const out = await ok(dir.path, [
    ...ADD,
    "--key",
    "ACME-2026-0001",
    "--quota",
    "600",
    "--modes",
    "without-statistics,none",
    "--notes",
    "Contract 17",
    "--valid-from",
    "2026-01-01",
  ]);
  assert.doesNotMatch(out, /Licence key/);
  const shown = JSON.parse(await ok(dir.path, ["license", "show", "acme-2026-0001"]));
  assert.equal(shown.customer, "Acme GmbH");
  assert.equal(shown.quota, 600);
  assert.deepEqual(shown.modes, ["without-statistics", "none"]);
  assert.equal(shown.notes, "Contract 17");
  assert.equal(shown.validFrom, "2026-01-01T00:00:00Z");
  assert.equal(shown.expires, "2100-01-01T00:00:00Z");
  assert.equal(shown.status, "active");
});

Deno.test("license add with a key that is already registered exits 1 with the license_exists message", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001"]);
  const stderr = await fails(dir.path, [...ADD, "--key", "acme-2026-0001"]);
  assert.match(stderr, /^pksn: This licence key is already registered$/m);
  assert.equal((await list(dir.path)).length, 1);
});

Deno.test("license add with an invalid --expires exits 1 naming the value", async () => {
  await using dir = await tempDir();
  for (const value of ["2027-13-01", "2027-02-30", "31.12.2027", "tomorrow"]) {
    const stderr = await fails(dir.path, [
      "license",
      "add",
      "--customer",
      "Acme",
      "--expires",
      value,
    ]);
    assert.match(stderr, new RegExp(`Invalid --expires "${value}": expected a date as YYYY-MM-DD`));
  }
  assert.equal((await list(dir.path)).length, 0);
});

Deno.test("license add refuses an expiry before the valid-from date, a zero quota and an unknown mode", async () => {
  await using dir = await tempDir();
  assert.match(
    await fails(dir.path, [...ADD, "--valid-from", "2100-06-01"]),
    /would expire .* before it becomes valid/,
  );
  assert.match(await fails(dir.path, [...ADD, "--quota", "0"]), /Invalid quota "0"/);
  assert.match(
    await fails(dir.path, [...ADD, "--modes", "everything"]),
    /Unknown participation mode "everything"/,
  );
  assert.equal((await list(dir.path)).length, 0);
});

Deno.test("license add without --customer or --expires is a usage error (exit 2)", async () => {
  await using dir = await tempDir();
  const stderr = await fails(dir.path, ["license", "add", "--customer", "Acme"], 2);
  assert.match(stderr, /needs --customer and --expires/);
});

Deno.test("a key given as - is read from standard input by add, show and revoke", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "-"], "PIPED-KEY-0001\n");
  const shown = JSON.parse(await ok(dir.path, ["license", "show", "-"], "piped-key-0001\n"));
  assert.equal(shown.customer, "Acme GmbH");
  const revoked = await ok(dir.path, ["license", "revoke", "-"], "PIPED-KEY-0001\n");
  assert.match(revoked, /^Revoked licence #1 for "Acme GmbH"/);
  assert.equal((await list(dir.path))[0].status, "revoked");
});

Deno.test("license list shows each licence's id, status, quota, participation and customer but no key", async () => {
  await using dir = await tempDir();
  assert.match(await ok(dir.path, ["license", "list"]), /^No licences registered$/m);
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001", "--quota", "60"]);
  await ok(dir.path, ["license", "add", "--customer", "Beta AG", "--expires", "2099-06-30"]);
  await ok(dir.path, ["license", "revoke", "2"]);
  const lines = (await ok(dir.path, ["license", "list"])).trim().split("\n");
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^#1\s+[0-9a-f]{8}\s+active\s+until 2100-01-01T00:00:00Z\s+quota 60\s+participation -\s+"Acme GmbH"$/,
  );
  assert.match(
    lines[1],
    /^#2\s+[0-9a-f]{8}\s+revoked\s+until 2099-07-01T00:00:00Z\s+quota -\s+participation -\s+"Beta AG"$/,
  );
});

Deno.test("license show finds a licence by id or key and says when none matches", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001"]);
  const byId = JSON.parse(await ok(dir.path, ["license", "show", "1"]));
  const byHashId = JSON.parse(await ok(dir.path, ["license", "show", "#1"]));
  const byKey = JSON.parse(await ok(dir.path, ["license", "show", "ACME-2026-0001"]));
  assert.deepEqual(byId, byKey);
  assert.deepEqual(byHashId, byKey);
  assert.match(await fails(dir.path, ["license", "show", "7"]), /No licence with id 7/);
  assert.match(
    await fails(dir.path, ["license", "show", "NOT-REGISTERED-0001"]),
    /No licence is registered with this key/,
  );
});

Deno.test("license revoke revokes at once and refuses to revoke twice", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001"]);
  const out = await ok(dir.path, ["license", "revoke", "ACME-2026-0001", "--reason", "unpaid"]);
  assert.match(out, /^Revoked licence #1 for "Acme GmbH"$/m);
  assert.equal((await list(dir.path))[0].status, "revoked");
  assert.match(await fails(dir.path, ["license", "revoke", "1"]), /Licence 1 is already revoked/);
});

Deno.test("license rotate registers the renewed key and keeps the old one valid until the grace period ends", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001", "--quota", "60"]);
  const before = Date.now();
  const out = await ok(dir.path, ROTATE);
  const until = out.match(/the old key #1 stays valid until (\S+)$/m)?.[1];
  assert.ok(until, out);
  const graceEnd = Date.parse(until);
  assert.ok(
    graceEnd >= Math.floor(before / 1000) * 1000 + 14 * 86_400_000 &&
      graceEnd <= Date.now() + 14 * 86_400_000,
    `grace ends 14 days from now, not ${until}`,
  );
  assert.match(out, /^Registered renewed licence #2 /);
  assert.doesNotMatch(out, /New licence key/, "the operator's own new key is not printed");

  const [old, renewed] = await list(dir.path);
  assert.equal(old.status, "active");
  assert.equal(old.graceUntil, until);
  assert.equal(old.replacedBy, 2);
  assert.equal(renewed.customer, "Acme GmbH");
  assert.equal(renewed.quota, 60, "the renewed licence keeps the quota");
  assert.equal(renewed.status, "active");
  const again = await fails(dir.path, [
    "license",
    "rotate",
    "ACME-2026-0001",
    "ACME-2028-0001",
    "--grace",
    "1d",
  ]);
  assert.match(again, /Licence 1 was already rotated to licence 2/);
});

Deno.test("license rotate with - as the new key generates one and prints it once", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001"]);
  const out = await ok(dir.path, ["license", "rotate", "ACME-2026-0001", "-", "--grace", "36h"]);
  const key = out.match(
    /^New licence key \(shown only now\): (PKSN(?:-[0-9A-HJKMNP-TV-Z]{5}){5})$/m,
  )
    ?.[1];
  assert.ok(key, out);
  const shown = JSON.parse(await ok(dir.path, ["license", "show", "-"], `${key}\n`));
  assert.equal(shown.id, 2);
});

Deno.test("license rotate needs --grace and a valid duration", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001"]);
  const missing = await fails(dir.path, ["license", "rotate", "ACME-2026-0001", "-"], 2);
  assert.match(missing, /needs --grace/);
  const bad = await fails(dir.path, [
    "license",
    "rotate",
    "ACME-2026-0001",
    "-",
    "--grace",
    "two weeks",
  ]);
  assert.match(bad, /Invalid --grace "two weeks"/);
  assert.equal((await list(dir.path)).length, 1, "nothing was registered");
});

Deno.test("license rotate refuses a revoked licence", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001"]);
  await ok(dir.path, ["license", "revoke", "1"]);
  const stderr = await fails(dir.path, ROTATE);
  assert.match(stderr, /revoked; it cannot be rotated/);
});

Deno.test("license audit lists who changed what and when, newest first", async () => {
  await using dir = await tempDir();
  await ok(dir.path, [...ADD, "--key", "ACME-2026-0001", "--actor", "alice"]);
  await ok(dir.path, [...ROTATE, "--actor", "bob"]);
  await ok(dir.path, ["license", "revoke", "1", "--reason", "superseded", "--actor", "carol"]);
  const entries = JSON.parse(await ok(dir.path, ["license", "audit", "--json"]));
  assert.deepEqual(
    entries.map((e: { actor: string; action: string; licenceId: number }) => [
      e.actor,
      e.action,
      e.licenceId,
    ]),
    [
      ["cli:carol", "licence.revoke", 1],
      ["cli:bob", "licence.rotate", 1],
      ["cli:bob", "licence.add", 2],
      ["cli:alice", "licence.add", 1],
    ],
  );
  assert.equal(entries[0].detail.reason, "superseded");
  assert.equal(entries[1].detail.renewedLicence, 2);
  assert.match(entries[0].at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  const text = await ok(dir.path, ["license", "audit", "--limit", "1"]);
  assert.equal(text.trim().split("\n").length, 1);
  assert.match(text, /cli:carol\s+licence\.revoke\s+1/);
});

Deno.test("license import registers every licence of a good CSV file", async () => {
  await using dir = await tempDir();
  const file = await writeCsv(
    dir.path,
    "key,customer,expires,valid_from,quota,modes,notes\n" +
      "IMPORT-KEY-0001,One Ltd,2099-01-31,2026-01-01,100,without-statistics;none,first\n" +
      'import-key-0002,"Two, Inc.",2099-02-28,,,,\n' +
      "\n" +
      "IMPORT-KEY-0003,Three SA,2099-03-31,,,,\n",
  );
  const out = await ok(dir.path, ["license", "import", file]);
  assert.match(out, /^Registered 3 licences from /);
  const all = await list(dir.path);
  assert.deepEqual(all.map((l) => l.customer), ["One Ltd", "Two, Inc.", "Three SA"]);
  assert.equal(all[0].quota, 100);
  assert.deepEqual(all[0].modes, ["without-statistics", "none"]);
  assert.equal(all[0].notes, "first");
  assert.equal(all[0].validFrom, "2026-01-01T00:00:00Z");
  assert.equal(all[1].expires, "2099-03-01T00:00:00Z");
  const byKey = JSON.parse(await ok(dir.path, ["license", "show", "IMPORT-KEY-0002"]));
  assert.equal(byKey.customer, "Two, Inc.");
});

Deno.test("license import keeps notes that span lines in a quoted field, as spreadsheets write them", async () => {
  await using dir = await tempDir();
  const file = await writeCsv(
    dir.path,
    "key,customer,expires,notes\n" +
      'IMPORT-KEY-0001,One Ltd,2099-01-31,"billing contact:\r\nJane, ext. 12"\r\n' +
      "IMPORT-KEY-0002,Two Inc,2099-02-28,\n",
  );
  const out = await ok(dir.path, ["license", "import", file]);
  assert.match(out, /^Registered 2 licences from /);
  const all = await list(dir.path);
  assert.deepEqual(all.map((l) => l.notes), ["billing contact:\nJane, ext. 12", null]);
});

Deno.test("license import of a CSV file with one bad line registers nothing and names FILE:LINE", async () => {
  await using dir = await tempDir();
  const file = await writeCsv(
    dir.path,
    "key,customer,expires\n" +
      "IMPORT-KEY-0001,One Ltd,2099-01-31\n" +
      "IMPORT-KEY-0002,Two Inc,2099-02-30\n" +
      "IMPORT-KEY-0003,Three SA,2099-03-31\n",
  );
  const stderr = await importRefused(dir.path, file);
  assert.ok(stderr.includes(`${file}:3: Invalid expires "2099-02-30"`), stderr);
  assert.match(stderr, /Nothing imported: 1 line\(s\) have errors/);
});

Deno.test("license import reports every bad line of a file at once", async () => {
  await using dir = await tempDir();
  const file = await writeCsv(
    dir.path,
    "key,customer,expires,quota\n" +
      "IMPORT-KEY-0001,,2099-01-31,\n" +
      "IMPORT-KEY-0002,Two Inc,2099-01-31,-5\n" +
      "IMPORT-KEY-0003,Three SA,2099-03-31,\n",
  );
  const stderr = await importRefused(dir.path, file);
  assert.ok(stderr.includes(`${file}:2: key, customer and expires are required`), stderr);
  assert.ok(stderr.includes(`${file}:3: Invalid quota "-5"`), stderr);
  assert.match(stderr, /Nothing imported: 2 line\(s\) have errors/);
});

Deno.test("license import of a file that lists one key twice registers nothing and names the line", async () => {
  await using dir = await tempDir();
  const file = await writeCsv(
    dir.path,
    "key,customer,expires\n" +
      "IMPORT-KEY-0001,One Ltd,2099-01-31\n" +
      "import-key-0001,One Again,2099-01-31\n",
  );
  const stderr = await importRefused(dir.path, file);
  assert.match(stderr, /customers\.csv:3: Key appears twice in the file/);
});

Deno.test({
  name:
    "license import of a line whose key is already registered names FILE:LINE and registers nothing",
  fn: async () => {
    await using dir = await tempDir();
    await ok(dir.path, [...ADD, "--key", "IMPORT-KEY-0001"]);
    const file = await writeCsv(
      dir.path,
      "key,customer,expires\n" +
        "IMPORT-KEY-0002,Two Inc,2099-01-31\n" +
        "IMPORT-KEY-0001,One Again,2099-01-31\n",
    );
    const stderr = await importRefused(dir.path, file, 1);
    assert.ok(stderr.includes(`${file}:3: This licence key is already registered`), stderr);
    assert.match(stderr, /Nothing imported/);
  },
});

Deno.test("license import refuses a file whose header lacks a required column or names an unknown one", async () => {
  await using dir = await tempDir();
  const missing = await writeCsv(
    dir.path,
    "key,customer\nIMPORT-KEY-0001,One Ltd\n",
    "missing.csv",
  );
  assert.ok(
    (await importRefused(dir.path, missing)).includes(
      `${missing}:1: header lacks the "expires" column`,
    ),
  );
  const unknown = await writeCsv(
    dir.path,
    "key,customer,expires,colour\nK-0000001,One,2099-01-01,red\n",
    "unknown.csv",
  );
  assert.match(await importRefused(dir.path, unknown), /unknown column "colour"/);
  const empty = await writeCsv(dir.path, "", "empty.csv");
  assert.match(await importRefused(dir.path, empty), /the file is empty/);
});

Deno.test("license edit changes quota, modes, expiry and notes by id or key, and says what it needs", async () => {
  await using dir = await tempDir();
  const key = "PKSN-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE";
  await ok(dir.path, [
    "license",
    "add",
    "--customer",
    "Edit Ltd",
    "--expires",
    "2030-01-01",
    "--key",
    key,
    "--quota",
    "10",
  ]);
  const out = await ok(dir.path, [
    "license",
    "edit",
    "1",
    "--quota",
    "50",
    "--modes",
    "without-statistics",
    "--notes",
    "upgraded",
  ]);
  assert.match(
    out,
    /^Changed licence #1 for "Edit Ltd": valid to 2030-01-02T00:00:00Z, quota 50, modes without-statistics, notes "upgraded"/,
  );
  await ok(dir.path, [
    "license",
    "edit",
    key,
    "--quota",
    "none",
    "--expires",
    "2031-06-30",
    "--notes",
    "",
  ]);
  const [licence] = await list(dir.path);
  assert.equal(licence.quota, null);
  assert.equal(licence.expires, "2031-07-01T00:00:00Z");
  assert.equal(licence.notes, null);
  assert.deepEqual(licence.modes, ["without-statistics"]);
  assert.match(await fails(dir.path, ["license", "edit", "1"], 2), /needs at least one of --quota/);
  assert.match(await fails(dir.path, ["license", "edit", "9", "--quota", "5"]), /9/);
  await ok(dir.path, ["license", "revoke", "1"]);
  assert.match(await fails(dir.path, ["license", "edit", "1", "--quota", "5"]), /revoked/);
});

Deno.test("license rotate takes the old licence by id as show and revoke do", async () => {
  await using dir = await tempDir();
  await ok(dir.path, ["license", "add", "--customer", "Rotate Ltd", "--expires", "2030-01-01"]);
  const out = await ok(dir.path, ["license", "rotate", "1", "-", "--grace", "7d"]);
  assert.match(out, /^Registered renewed licence #2 .* the old key #1 stays valid until/);
  assert.match(out, /New licence key \(shown only now\): PKSN-/);
});

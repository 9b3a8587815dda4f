/** Admin password hashing and policy, and where the password must never end up. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkPasswordPolicy,
  hashPassword,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from "../../src/admin/mod.ts";
import { AppError } from "../../src/core/errors.ts";
import { api, auditRows, logIn, setUp, startAdminNode } from "./_admin.ts";
import { statusOf } from "../../src/http/mod.ts";

const FORMAT = /^pbkdf2-sha256\$600000\$([A-Za-z0-9+/]{22}==)\$([A-Za-z0-9+/]{43}=)$/;

Deno.test("hashPassword stores pbkdf2-sha256 with 600000 iterations, a 16-byte salt and a 32-byte hash", async () => {
  assert.equal(PBKDF2_ITERATIONS, 600_000);
  const stored = await hashPassword("a long enough password");
  assert.match(stored, FORMAT);
});

Deno.test("hashPassword uses a fresh salt each time", async () => {
  const a = await hashPassword("the same password");
  const b = await hashPassword("the same password");
  assert.notEqual(a.split("$")[2], b.split("$")[2]);
  assert.notEqual(a, b);
});

Deno.test("verifyPassword accepts the password and rejects any other", async () => {
  const stored = await hashPassword("the right password", 1000);
  assert.equal(await verifyPassword("the right password", stored), true);
  assert.equal(await verifyPassword("the right passwore", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("verifyPassword honours the iteration count stored in the hash", async () => {
  const stored = await hashPassword("fewer rounds, old hash", 1000);
  assert.match(stored, /^pbkdf2-sha256\$1000\$/);
  assert.equal(await verifyPassword("fewer rounds, old hash", stored), true);
});

Deno.test("verifyPassword never matches a malformed stored hash", async () => {
  const good = await hashPassword("some password here", 1000);
  const [, , salt, hash] = good.split("$");
  for (
    const stored of [
      "",
      "plain text",
      `sha1$1000$${salt}$${hash}`,
      `pbkdf2-sha256$0$${salt}$${hash}`,
      `pbkdf2-sha256$99999999$${salt}$${hash}`,
      `pbkdf2-sha256$1000$${salt}$${hash.slice(4)}`,
      `pbkdf2-sha256$1000$!!$${hash}`,
      `pbkdf2-sha256$1000$${salt}`,
    ]
  ) {
    assert.equal(await verifyPassword("some password here", stored), false, stored);
  }
});

Deno.test("the password policy asks for at least 12 characters and says so", () => {
  checkPasswordPolicy("twelve chars");
  checkPasswordPolicy("ünïcödé pässwörd");
  for (const weak of ["", "eleven char", "äöüäöüäöüäö"]) {
    assert.throws(
      () => checkPasswordPolicy(weak),
      (err: unknown) =>
        err instanceof AppError && statusOf(err) === 400 && err.code === "password_too_weak" &&
        /at least 12 characters/.test(err.message),
      JSON.stringify(weak),
    );
  }
});

Deno.test("the admin password is stored hashed and appears in no log line, audit entry or database file", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 1 } } });
  const password = "Sup3r-Secret-Passphrase-4711";
  const wrong = "Wrong-Guess-Passphrase-0815";
  await setUp(node, "admin", password);
  await api(node, "/admin/api/login", { json: { username: "admin", password: wrong } });
  node.clock.set(node.clock.now() + 60_000);
  await logIn(node, "admin", password);
  const changed = "Changed-Passphrase-Later-99";
  await node.auth.setPassword("admin", changed);
  await logIn(node, "admin", changed);

  const stored = node.node.db.prepare("SELECT password_hash FROM admin_account").all() as {
    password_hash: string;
  }[];
  assert.equal(stored.length, 1);
  assert.match(stored[0].password_hash, FORMAT);

  const audit = JSON.stringify(auditRows(node.node, true));
  const log = node.logLines.join("\n");
  node.node.db.exec("PRAGMA wal_checkpoint(FULL)");
  const files: Uint8Array[] = [];
  for (const name of ["pksn.db", "pksn.db-wal", "pksn.db-journal"]) {
    try {
      files.push(await Deno.readFile(join(node.dataDir, name)));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  const bytes = files.map((f) => new TextDecoder("latin1").decode(f)).join("\n");
  for (const secret of [password, wrong, changed]) {
    assert.ok(!audit.includes(secret), "audit");
    assert.ok(!log.includes(secret), "log");
    assert.ok(!bytes.includes(secret), "database files"); // ASCII secrets: bytes = characters
  }
});

Deno.test("admin account changes, failed logins and lock-outs are logged and audited", async () => {
  await using node = await startAdminNode({ config: { admin: { maxFailures: 2 } } });
  await setUp(node);
  for (let i = 0; i < 2; i++) {
    await api(node, "/admin/api/login", {
      json: { username: "admin", password: "nope nope nope" },
    });
  }
  await node.auth.setPassword("admin", "another long passphrase", { actor: "cli:root" });
  const rows = auditRows(node.node).map((r) => [r.actor, r.action]);
  assert.deepEqual(rows, [
    ["setup", "admin.create"],
    ["admin:admin", "admin.login_failed"],
    ["admin:admin", "admin.login_failed"],
    ["admin:admin", "admin.login_locked"],
    ["cli:root", "admin.password"],
  ]);
  const log = node.logLines.join("\n");
  assert.match(log, /INFO +Created admin account username=admin actor=setup/);
  assert.match(log, /WARN +Admin login failed username=admin client=127\.0\.0\.1 failures=1/);
  assert.match(log, /WARN +Admin login locked username=admin client=127\.0\.0\.1 seconds=30/);
  assert.match(log, /INFO +Changed admin password username=admin actor=cli:root/);
});

/** `pksn admin password`: the operator's shell route to the admin account. */
import assert from "node:assert/strict";
import { runCli, tempDir } from "../_helpers.ts";
import { startServe } from "../cli/_cli.ts";
import { api, assertError, logIn, PASSWORD, startAdminNode } from "./_admin.ts";

Deno.test("pksn admin password reads the new password twice from stdin and it logs in", async () => {
  await using dir = await tempDir();
  const result = await runCli(["admin", "password", "--data", dir.path], {
    stdin: `${PASSWORD}\n${PASSWORD}\n`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Created admin account "admin"/);
  assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD));
  await using node = await startAdminNode({ dataDir: dir.path });
  assert.equal(node.setupToken, null, "no setup token once an account exists");
  await logIn(node);
});

Deno.test("pksn admin password --username changes that account's password", async () => {
  await using dir = await tempDir();
  const first = await runCli(["admin", "password", "--username", "ops", "--data", dir.path], {
    stdin: `${PASSWORD}\n${PASSWORD}\n`,
  });
  assert.equal(first.code, 0, first.stderr);
  const changed = "a different passphrase";
  const second = await runCli(["admin", "password", "--username", "ops", "--data", dir.path], {
    stdin: `${changed}\r\n${changed}\r\n`,
  });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Changed the password of admin account "ops"/);
  await using node = await startAdminNode({ dataDir: dir.path });
  assertError(
    await api(node, "/admin/api/login", { json: { username: "ops", password: PASSWORD } }),
    401,
    "login_failed",
  );
  await logIn(node, "ops", changed);
});

Deno.test("pksn admin password refuses two different passwords and creates no account", async () => {
  await using dir = await tempDir();
  const result = await runCli(["admin", "password", "--data", dir.path], {
    stdin: `${PASSWORD}\n${PASSWORD}x\n`,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^pksn: The two passwords do not match$/m);
  await using node = await startAdminNode({ dataDir: dir.path });
  assert.equal(node.auth.hasAccount(), false);
});

Deno.test("pksn admin password refuses a password given only once", async () => {
  await using dir = await tempDir();
  const result = await runCli(["admin", "password", "--data", dir.path], {
    stdin: `${PASSWORD}\n`,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Expected the new password twice on standard input/);
});

Deno.test("pksn admin password refuses a short password, naming the 12-character minimum", async () => {
  await using dir = await tempDir();
  const result = await runCli(["admin", "password", "--data", dir.path], {
    stdin: "short\nshort\n",
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /at least 12 characters/);
});

Deno.test("pksn admin password takes no password on the command line", async () => {
  await using dir = await tempDir();
  const result = await runCli(["admin", "password", "--password", PASSWORD, "--data", dir.path]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Unknown option "--password"/);
});

Deno.test("pksn admin --help explains the command and exits 0", async () => {
  const result = await runCli(["admin", "--help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^Usage: pksn admin password \[--username NAME\]/);
  assert.match(result.stdout, /standard input/);
  const bare = await runCli(["admin"]);
  assert.equal(bare.code, 2);
  const unknown = await runCli(["admin", "delete"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "admin delete"/);
});

Deno.test("pksn serve logs a setup token on first run and none after pksn admin password", async () => {
  await using dir = await tempDir();
  const args = ["--data", dir.path, "--listen", "127.0.0.1:0"];
  {
    await using serve = await startServe(args);
    await serve.stderr.waitFor(/Admin setup token \(one use, this run only\): [0-9a-f]{32}/);
    await serve.stop();
  }
  const set = await runCli(["admin", "password", "--data", dir.path], {
    stdin: `${PASSWORD}\n${PASSWORD}\n`,
  });
  assert.equal(set.code, 0, set.stderr);
  await using serve = await startServe(args);
  await serve.stop();
  assert.doesNotMatch(serve.stderr.text, /setup token/i);
  await using node = await startAdminNode({ dataDir: dir.path });
  await logIn(node);
});

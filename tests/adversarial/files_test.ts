/**
 * Issue 9, finding 7: the data folder holds the admin password hash, sessions,
 * CSRF tokens, the node secret and customers' statistics, and was created
 * 0755/0644. Every file and folder in it must be for the node's user alone, on a
 * new install and, after the next start, on an old one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, tempDir } from "../_helpers.ts";
import { PASSWORD } from "../admin/_admin.ts";
import { startServe } from "../cli/_cli.ts";

const LISTEN = ["--listen", "127.0.0.1:0"];
const KEY = "adversarial-files-test-key-0123456789";

/** Every path under `dir` (itself included, links not followed) with its permission bits. */
async function modes(dir: string): Promise<{ path: string; mode: number }[]> {
  const found: { path: string; mode: number }[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const path = pending.pop()!;
    const info = await Deno.lstat(path);
    if (info.isSymlink) continue;
    found.push({ path, mode: info.mode! & 0o7777 });
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(path)) pending.push(join(path, entry.name));
    }
  }
  return found;
}

function openToOthers(found: { path: string; mode: number }[]): string[] {
  return found.filter((f) => (f.mode & 0o077) !== 0).map((f) => `${f.path} ${f.mode.toString(8)}`);
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("every file and folder of a fresh data folder is private after serve, a statistics batch and an admin login", async () => {
  if (Deno.build.os === "windows") return;
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const added = await runCli(
    ["license", "add", "--customer", "Modes", "--expires", "2099-12-31", "--key", "-"],
    { stdin: `${KEY}\n`, env: { PKSN_DATA: data } },
  );
  assert.equal(added.code, 0, added.stderr);
  const admin = await runCli(["admin", "password", "--data", data], {
    stdin: `${PASSWORD}\n${PASSWORD}\n`,
  });
  assert.equal(admin.code, 0, admin.stderr);
  await using serve = await startServe(["--data", data, ...LISTEN]);
  const bearer = { authorization: `Bearer ${KEY}` };

  const statement = await (await fetch(`${serve.url}/v1/statement`, { headers: bearer })).json();
  const chose = await post(`${serve.url}/v1/participation`, {
    mode: "with-statistics",
    statementVersion: statement.version,
  }, bearer);
  assert.equal(chose.status, 200, await chose.text());
  const stats = await post(`${serve.url}/v1/stats`, [{
    detectedAt: new Date().toISOString().slice(0, 19) + "Z",
    detectionType: "file",
    verdict: "malicious",
    decision: "blocked",
    threat: "Trojan.Win32.Example.a",
    md5: "44d88612fea8a8f36de82e1278abb02f",
    size: 68,
    statisticsVersion: 1,
  }], bearer);
  const accepted = await stats.json();
  assert.equal(stats.status, 202, JSON.stringify(accepted));
  assert.equal(accepted.accepted, 1, JSON.stringify(accepted));

  const login = await post(`${serve.url}/admin/api/login`, {
    username: "admin",
    password: PASSWORD,
  }, {});
  const session = await login.json();
  assert.equal(login.status, 200, JSON.stringify(session));
  const cookie = login.headers.get("set-cookie")!.split(";", 1)[0];
  const mode = await post(`${serve.url}/admin/api/participation`, {
    mode: "save-statistics-to-file",
    acceptStatement: true,
  }, { cookie, "x-csrf-token": session.csrfToken });
  assert.equal(mode.status, 200, await mode.text());

  const found = await modes(data);
  const names = found.map((f) => f.path.slice(data.length));
  for (const expected of ["", "/pksn.db", "/pksn.db-wal", "/pksn.db-shm", "/node.secret"]) {
    assert.ok(names.includes(expected), `${expected || "the folder"} exists: ${names}`);
  }
  assert.ok(names.some((n) => n.startsWith("/stats/")), `a statistics file exists: ${names}`);
  assert.deepEqual(openToOthers(found), [], "no file or folder is open to other users");
});

Deno.test("pksn serve makes an existing install's 0644 files and 0755 folders private, without following links", async () => {
  if (Deno.build.os === "windows") return;
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  const listed = await runCli(["license", "list", "--data", data]);
  assert.equal(listed.code, 0, listed.stderr);
  // What an older pksn left behind: open modes, a statistics day file, and a link out.
  await Deno.mkdir(join(data, "stats"), { mode: 0o755 });
  await Deno.writeTextFile(join(data, "stats", "2026-01-01.ndjson"), "{}\n");
  const outside = join(dir.path, "outside.txt");
  await Deno.writeTextFile(outside, "not the node's\n");
  await Deno.chmod(outside, 0o644);
  await Deno.symlink(outside, join(data, "link-out"));
  for (const { path } of await modes(data)) {
    await Deno.chmod(path, (await Deno.stat(path)).isDirectory ? 0o755 : 0o644);
  }
  const before = openToOthers(await modes(data));
  assert.ok(before.length >= 4, `the old install is open: ${before}`);

  await using serve = await startServe(["--data", data, ...LISTEN]);
  assert.deepEqual(openToOthers(await modes(data)), []);
  assert.match(
    serve.stderr.text,
    new RegExp(`Tightened modes in data folder "${data}": ${before.length} files and folders`),
  );
  assert.equal((await Deno.stat(outside)).mode! & 0o777, 0o644, "a linked file is not changed");
});

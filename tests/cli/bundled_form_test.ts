/**
 * The appliance's program in its bundled form (`deno task compile` without denort): the pinned
 * Deno runtime, the whole program in one file, and the launcher with the serving flags and
 * narrow permissions. It must report its build and behave as the source does, CLI and HTTP.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_KEY, DEMO_LOOKUP } from "../../src/demo/mod.ts";
import { ROOT, tempDir } from "../_helpers.ts";
import { FeedServer, fileRecords, TestOrigin } from "../sync/_feed.ts";

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    // A command that should fail at once but serves instead must not hang the suite.
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("the bundled form reports its build and serves, CLI and HTTP, with only its data folder writable", async () => {
  await using dir = await tempDir();
  const built = await run(Deno.execPath(), [
    "run",
    "--allow-all",
    "scripts/compile.ts",
    "--arch",
    "x86_64",
    "--out",
    dir.path,
  ]);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /bundled form \(no DENORT_BIN: deno compile needs denort/);
  const pksn = join(dir.path, "pksn-x86_64/usr/bin/pksn");
  const data = join(dir.path, "data");
  const env = { PKSN_DATA: data };

  const version = await run(pksn, ["--version"], env);
  assert.equal(version.code, 0, version.stderr);
  assert.match(
    version.stdout,
    /^pksn \d+\.\d+\.\d+\ncommit [0-9a-f]{12}(-modified)?\nbuilt \d{4}-\d\d-\d\dT[\d:.]+Z\nschema \d+\ndeno 2\.9\.6 /,
  );

  const licence = await run(pksn, [
    "license",
    "add",
    "--customer",
    "Bundled form",
    "--expires",
    "2099-12-31",
    "--data",
    data,
  ], env);
  assert.equal(licence.code, 0, licence.stderr);
  const check = await run(pksn, ["db", "check", "--data", data], env);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /ok/);

  const child = new Deno.Command(pksn, {
    args: ["serve", "--demo", "--listen", "127.0.0.1:0"],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let log = "";
    let url: string | undefined;
    while (url === undefined) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`serve stopped before listening:\n${log}`);
      log += value;
      url = /pksn listening on (http:\/\/\S+)/.exec(log)?.[1];
    }
    // Keep draining, so the node never blocks on a full pipe.
    const drained = (async () => {
      while (!(await reader.read()).done) { /* discard */ }
    })();
    const answer = await fetch(`${url}${DEMO_LOOKUP}`, {
      headers: { authorization: `Bearer ${DEMO_KEY}` },
    });
    const body = await answer.json();
    assert.equal(answer.status, 200, JSON.stringify(body));
    assert.equal(body.verdict, "malicious");
    const admin = await fetch(`${url}/admin/`, { redirect: "manual" });
    await admin.body?.cancel();
    assert.equal(admin.status, 303);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await drained;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already stopped.
    }
  }

  await followsAFeed(pksn, dir.path);

  // serve may write only its data folder (--data, else PKSN_DATA): a configuration file naming
  // another one is refused, and the message says which folders this run may use.
  const config = join(dir.path, "elsewhere.json");
  await Deno.writeTextFile(config, JSON.stringify({ dataDir: join(dir.path, "other") }));
  // (Without PKSN_DATA, which would win over the file: the launcher grants /var/lib/pksn.)
  const elsewhere = await run(pksn, ["serve", "--config", config, "--listen", "127.0.0.1:0"]);
  assert.equal(elsewhere.code, 1, elsewhere.stderr);
  assert.match(elsewhere.stderr, /Requires write access to ".*other"/);
  assert.match(
    elsewhere.stderr,
    new RegExp(`This run may write /var/lib/pksn; read /var/lib/pksn, ${dir.path}`),
  );
  assert.doesNotMatch(elsewhere.stderr, /run again with/);
});

/**
 * The bundled serve follows a feed and applies it on its worker thread: the launcher lets serve
 * read its own bundle, which the worker loads (without that it would apply on the main thread).
 */
async function followsAFeed(pksn: string, dir: string): Promise<void> {
  // Signed now: the bundled node runs on the real clock, not the sync tests' fake one.
  await using origin = await TestOrigin.atVersion1(fileRecords(500), { now: Date.now() });
  await using server = new FeedServer(origin.tree);
  const configDir = join(dir, "follower-config");
  await Deno.mkdir(configDir);
  await Deno.copyFile(origin.rootPath, join(configDir, "root.json"));
  const config = join(configDir, "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      sync: { url: server.url, root: join(configDir, "root.json"), firstPollMaxSeconds: 0 },
    }),
  );
  const data = join(dir, "follower");
  const child = new Deno.Command(pksn, {
    args: ["serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0"],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  try {
    while (!/Mirror is at version 1 .*\n/.test(log)) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`serve stopped before applying the feed:\n${log}`);
      log += value;
    }
    assert.match(log, /Mirror is at version 1 .*thread=worker/, log);
    assert.doesNotMatch(log, /Cannot apply on a worker thread/);
  } finally {
    child.kill("SIGTERM");
    while (!(await reader.read()).done) { /* drain until it exits */ }
    await child.status;
  }
}

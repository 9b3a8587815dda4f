/**
 * Issue 9, finding 10: two `pksn serve` on one data folder both started. The
 * second must stop at once naming the first's PID, a `kill -9` of the first must
 * not leave a lock that blocks the restart, and offline commands keep working.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { lockDataDir } from "../../src/store/lock.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace, spawnCli, startServe } from "../cli/_cli.ts";

const LISTEN = ["--listen", "127.0.0.1:0"];

Deno.test("a second pksn serve on the same data folder exits non-zero naming the running one's PID", async () => {
  await using dir = await tempDir();
  await using first = await startServe(["--data", dir.path, ...LISTEN]);
  const second = spawnCli(["serve", "--data", dir.path, ...LISTEN]);
  // Without a lock the second one would serve; give it a bounded time to refuse.
  const timer = setTimeout(() => second.child.kill("SIGKILL"), 20_000);
  const status = await second.finished();
  clearTimeout(timer);
  assert.notEqual(status.code, 0, `the second serve exits non-zero:\n${second.stderr.text}`);
  assert.equal(status.signal, null, `the second serve exits by itself:\n${second.stderr.text}`);
  assert.match(second.stderr.text, new RegExp(`PID ${first.child.pid}\\b`));
  assert.ok(second.stderr.text.includes(JSON.stringify(dir.path)), second.stderr.text);
  assert.doesNotMatch(second.stderr.text, /pksn listening on/);
  assertNoStackTrace(second.stderr.text);
  const health = await fetch(`${first.url}/healthz`);
  await health.body?.cancel();
  assert.equal(health.status, 200, "the first serve keeps running");
});

Deno.test("after kill -9 of a serving node a new pksn serve on its data folder starts", async () => {
  await using dir = await tempDir();
  const first = await startServe(["--data", dir.path, ...LISTEN]);
  const killed = await first.stop("SIGKILL");
  assert.equal(killed.signal, "SIGKILL");
  const lockText = await Deno.readTextFile(join(dir.path, "pksn.lock"));
  assert.equal(lockText.trim(), String(first.child.pid), "the stale lock file is still there");
  await using second = await startServe(["--data", dir.path, ...LISTEN]);
  assert.equal(
    (await Deno.readTextFile(join(dir.path, "pksn.lock"))).trim(),
    String(second.child.pid),
  );
});

Deno.test("offline commands run beside a serving node on the same data folder", async () => {
  await using dir = await tempDir();
  await using _serving = await startServe(["--data", dir.path, ...LISTEN]);
  const added = await runCli([
    "license",
    "add",
    "--customer",
    "Beside Serve",
    "--expires",
    "2099-12-31",
    "--data",
    dir.path,
  ]);
  assert.equal(added.code, 0, added.stderr);
  const listed = await runCli(["license", "list", "--data", dir.path]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /Beside Serve/);
});

Deno.test("the serve lock is refused in-process while held and free again after release", async () => {
  await using dir = await tempDir();
  const held = await lockDataDir(dir.path);
  await assert.rejects(
    () => lockDataDir(dir.path),
    (err: Error & { code?: string }) =>
      err.code === "data_dir_in_use" && err.message.includes(`PID ${Deno.pid}`),
  );
  held.release();
  using _again = await lockDataDir(dir.path);
  assert.equal((await Deno.stat(join(dir.path, "pksn.lock"))).mode! & 0o077, 0);
});

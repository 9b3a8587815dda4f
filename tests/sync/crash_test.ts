/**
 * `kill -9` of a `pksn sync` process in the middle of an apply, then a restart:
 * the mirror is at the old version or the new one, its checksum recomputed from
 * the rows matches the recorded one, and the next run finishes the job. Also two
 * `pksn sync` runs at once on one data folder: the lock file serialises them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryLogger } from "../../src/core/log.ts";
import { databasePath, openStore } from "../../src/node/node.ts";
import { openDatabase } from "../../src/store/database.ts";
import { type CliResult, runCli, tempDir } from "../_helpers.ts";
import {
  crashFeeds,
  type FollowedTree,
  followTree,
  hasTable,
  spawnSync,
  syncToEnd,
  verifySync,
} from "./_crash.ts";

const NEXT_TABLE = "entry_next";

/**
 * Runs `pksn sync` and kills it with SIGKILL at a random moment up to 300 ms
 * after it logs `applying`; fails if the run ended before the kill.
 */
async function killDuringApply(
  config: string,
  applying: RegExp,
  to: number,
): Promise<{ delayMs: number; committedBeforeKill: boolean }> {
  const run = spawnSync(config);
  try {
    await run.stderr.waitFor(applying, 30_000);
  } catch (err) {
    try {
      run.child.kill("SIGKILL");
    } catch { /* exited already */ }
    await run.finished();
    throw err;
  }
  const delayMs = Math.floor(Math.random() * 300);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  try {
    run.child.kill("SIGKILL");
  } catch { /* exited already: the assertion below says so */ }
  const status = await run.finished();
  assert.equal(
    status.signal,
    "SIGKILL",
    `the run was still applying when killed ${delayMs} ms after ${applying}:\n${run.stderr.text}`,
  );
  return {
    delayMs,
    committedBeforeKill: new RegExp(`Mirror is at version ${to}\\b`).test(run.stderr.text),
  };
}

/** Kills a run that applies version `from`→`to`, checks what is left, restarts it. */
async function crashAndRestart(
  { config, dataDir }: FollowedTree,
  kind: "snapshot" | "delta",
  from: number,
  to: number,
): Promise<void> {
  const crash = await killDuringApply(config, new RegExp(`Applying ${kind}`), to);
  const after = await verifySync(config);
  const leftOver = hasTable(dataDir, NEXT_TABLE);
  console.log(
    `  killed ${crash.delayMs} ms into the ${kind} apply: mirror at version ${after.version} ` +
      `(${after.version === from ? "N, rolled back" : "N+1, committed"}), ` +
      `${NEXT_TABLE} ${leftOver ? "left behind" : "absent"}`,
  );
  assert.ok(after.ok, `the recorded checksum matches the rows: ${JSON.stringify(after)}`);
  assert.ok(
    after.version === from || after.version === to,
    `version ${after.version} is ${from} or ${to}`,
  );
  if (crash.committedBeforeKill) assert.equal(after.version, to, "a logged commit survives");
  if (kind === "delta") assert.ok(!leftOver, "a delta never builds a table of its own");

  const restart = await syncToEnd(config);
  assert.equal(restart.from, after.version);
  assert.equal(restart.to, to);
  const final = await verifySync(config);
  assert.deepEqual([final.version, final.ok], [to, true], JSON.stringify(final));
  assert.ok(!hasTable(dataDir, NEXT_TABLE), `the next sync leaves no ${NEXT_TABLE}`);
}

Deno.test("kill -9 during a snapshot apply leaves version 0 or 1 and a restart completes to 1", async () => {
  const feeds = await crashFeeds();
  await using followed = await followTree(feeds.v1, feeds.root);
  await crashAndRestart(followed, "snapshot", 0, 1);
});

Deno.test("kill -9 during a delta apply leaves version 1 or 2 and a restart completes to 2", async () => {
  const feeds = await crashFeeds();
  await using followed = await followTree(feeds.v2, feeds.root);
  // One run applies snapshot 1, commits, and is killed in delta 1→2: the snapshot must hold.
  await crashAndRestart(followed, "delta", 1, 2);
  assert.equal(
    followed.server.count(/^snapshots\//),
    1,
    "the restart applied the delta, not the snapshot",
  );
});

Deno.test("two pksn sync runs at once on one data folder both exit 0: the lock serialises them", async () => {
  const feeds = await crashFeeds();
  await using followed = await followTree(feeds.v1, feeds.root);
  const { server, dataDir, config } = followed;
  // Created (and migrated) first: the runs race for the sync lock, not for the schema.
  (await openStore(dataDir, { cacheMiB: 1, log: memoryLogger() })).close();

  const runs = [spawnSync(config), spawnSync(config)];
  const statuses = await Promise.all(runs.map((r) => r.finished()));
  for (const [i, status] of statuses.entries()) {
    assert.equal(status.code, 0, `run ${i} exits 0:\n${runs[i].stderr.text}`);
  }
  assert.deepEqual(
    runs.map((r) => r.stdout.text.trim()).sort(),
    ["Mirror is current at version 1", "Mirror synced from version 0 to 1 (snapshot)"],
    "one run applied the snapshot, the other found the mirror current",
  );
  assert.equal(server.count(/^snapshots\//), 1, "the snapshot was downloaded once");
  const verified = await verifySync(config);
  assert.deepEqual([verified.version, verified.ok], [1, true], JSON.stringify(verified));
});

// Processes that open a new data folder at once (a cron `pksn sync` and `pksn serve`
// on a first install) must not both run migration 1: migrate reads the version again
// under the write lock. To hit the window every time, the test holds the write lock
// while both runs start (they read version 0, then wait on busy_timeout) and lets go
// after two seconds.
Deno.test({
  name: "pksn runs that open a new data folder at once all exit 0",
  fn: async () => {
    await using dir = await tempDir();
    const dataDir = join(dir.path, "data");
    await Deno.mkdir(dataDir);
    const holder = openDatabase(databasePath(dataDir), { cacheMiB: 1 });
    let runs: CliResult[];
    try {
      holder.exec("BEGIN IMMEDIATE");
      const pending = [1, 2].map(() => runCli(["sync", "verify", "--json", "--data", dataDir]));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      holder.exec("ROLLBACK");
      runs = await Promise.all(pending);
    } finally {
      holder.close();
    }
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
  },
});

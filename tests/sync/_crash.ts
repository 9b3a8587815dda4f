/**
 * Plumbing for the crash tests: feed trees big enough that an apply takes a
 * noticeable time (built once per test file), `pksn sync` as a child process
 * that a test can kill, and a look at what the data folder holds afterwards.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { databasePath } from "../../src/node/node.ts";
import { openDatabase } from "../../src/store/database.ts";
import { type CliProcess, spawnCli } from "../cli/_cli.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { copyTree, FeedServer, fileRecords, TestOrigin } from "./_feed.ts";

/** Records in the snapshot (version 1). */
export const SNAPSHOT_RECORDS = 300_000;
/** Records the delta 1→2 changes (their verdict). */
export const DELTA_CHANGES = 100_000;

/** Two copies of one origin's tree: as published at version 1 and at version 2. */
export interface CrashFeeds {
  /** Tree with version 1 (the snapshot) current. */
  v1: string;
  /** Tree with version 2 current (snapshot 1 and delta 1→2). */
  v2: string;
  /** The trusted root.json. */
  root: string;
}

let feeds: Promise<CrashFeeds> | undefined;

/** The feed trees, built on first use and removed when the test process ends. */
export function crashFeeds(): Promise<CrashFeeds> {
  feeds ??= buildFeeds();
  return feeds;
}

async function buildFeeds(): Promise<CrashFeeds> {
  const dir = await Deno.makeTempDir({ prefix: "pksn-crash-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  // The CLI runs on the real clock: sign against it, valid for a week.
  const publish = { now: Date.now(), expiresSeconds: 7 * 86_400 };
  await using origin = await TestOrigin.atVersion1(fileRecords(SNAPSHOT_RECORDS), publish);
  await copyTree(origin.tree, join(dir, "v1"));
  await origin.publishRecords([
    ...fileRecords(DELTA_CHANGES, "suspicious"),
    ...fileRecords(SNAPSHOT_RECORDS - DELTA_CHANGES, "malicious", DELTA_CHANGES),
  ], publish);
  await copyTree(origin.tree, join(dir, "v2"));
  return { v1: join(dir, "v1"), v2: join(dir, "v2"), root: join(dir, "v1", "root.json") };
}

/** Writes a configuration file that follows `url` into `dataDir`; returns its path. */
export async function writeSyncConfig(
  dir: string,
  dataDir: string,
  sync: { url: string; root: string },
): Promise<string> {
  const path = join(dir, "pksn.json");
  await Deno.writeTextFile(path, JSON.stringify({ dataDir, sync }));
  return path;
}

/** A feed server and a data folder whose configuration file follows it. */
export interface FollowedTree extends AsyncDisposable {
  server: FeedServer;
  dataDir: string;
  /** The configuration file. */
  config: string;
}

/** Serves `tree` and writes, in a temporary folder, a configuration that follows it trusting `root`. */
export async function followTree(tree: string, root: string): Promise<FollowedTree> {
  await using stack = new AsyncDisposableStack();
  const server = stack.use(new FeedServer(tree));
  const dir = stack.use(await tempDir());
  const dataDir = join(dir.path, "data");
  const config = await writeSyncConfig(dir.path, dataDir, { url: server.url, root });
  const owned = stack.move();
  return { server, dataDir, config, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/** Starts `pksn sync --config FILE` with the same Deno as the tests. */
export function spawnSync(config: string): CliProcess {
  return spawnCli(["sync", "--config", config]);
}

/** What `pksn sync verify --json` prints. */
export interface VerifyReport {
  version: number;
  recorded: string;
  computed: string;
  ok: boolean;
}

/** Runs `pksn sync verify --json --config FILE`; asserts it exits 0. */
export async function verifySync(config: string): Promise<VerifyReport> {
  const result = await runCli(["sync", "verify", "--json", "--config", config]);
  assert.equal(result.code, 0, `sync verify exits 0:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Runs `pksn sync --json --config FILE` to the end; asserts it exits 0 and returns its result. */
export async function syncToEnd(
  config: string,
): Promise<{ from: number; to: number; via: string[] }> {
  const result = await runCli(["sync", "--json", "--config", config]);
  assert.equal(result.code, 0, `sync exits 0:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Whether the database in `dataDir` has a table called `name`. */
export function hasTable(dataDir: string, name: string): boolean {
  const db = openDatabase(databasePath(dataDir), { cacheMiB: 1 });
  try {
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(name) !== undefined;
  } finally {
    db.close();
  }
}

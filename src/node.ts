/**
 * The node's data plane, assembled: the data folder, the database (migrated),
 * the in-memory index and the look-up service. `serve`, the offline CLI commands
 * and the tests all open a node the same way.
 */
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { quote, StoreError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { openDatabase } from "./store/database.ts";
import { EntryRepository } from "./store/entries.ts";
import { migrate } from "./store/migrations.ts";
import {
  buildIndex,
  type IndexHolder,
  Reputation,
  type ReputationIndex,
} from "./reputation/mod.ts";

/** The database file inside a data folder. */
export function databasePath(dataDir: string): string {
  return join(dataDir, "pksn.db");
}

/** An open node. */
export interface Node {
  readonly config: Config;
  readonly db: DatabaseSync;
  readonly reputation: Reputation;
  readonly index: IndexHolder;
  /** Rebuilds the index from the database and swaps it in. */
  refreshIndex(): Promise<ReputationIndex>;
  /** Rebuilds the index if another process (or connection) has committed since. */
  refreshIfChanged(): Promise<boolean>;
  close(): void;
}

/** What {@link openNode} needs. */
export interface NodeDeps {
  clock: Clock;
  log: Logger;
}

/**
 * Creates the data folder if needed and opens its database, migrated to the
 * current schema.
 */
export async function openStore(
  dataDir: string,
  options: { cacheMiB: number; log: Logger },
): Promise<DatabaseSync> {
  try {
    await Deno.mkdir(dataDir, { recursive: true });
  } catch (err) {
    throw new StoreError(
      `Cannot create data folder ${quote(dataDir)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const path = databasePath(dataDir);
  const db = openDatabase(path, { cacheMiB: options.cacheMiB });
  try {
    const applied = migrate(db);
    if (applied.length) {
      options.log.info(`Migrated database to version ${applied.at(-1)}`, { path });
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Opens the store, builds the index and the look-up service. */
export async function openNode(config: Config, deps: NodeDeps): Promise<Node> {
  const db = await openStore(config.dataDir, { cacheMiB: config.store.cacheMiB, log: deps.log });
  // The index is built on its own connection, so its long read transaction
  // never holds up look-ups on the main one.
  let builder: DatabaseSync;
  try {
    builder = openDatabase(databasePath(config.dataDir), { cacheMiB: 8 });
  } catch (err) {
    db.close();
    throw err;
  }
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
  const index: IndexHolder = {
    current: await buildIndex(builder, { now: deps.clock.now() }),
  };
  const reputation = new Reputation({
    entries: new EntryRepository(db),
    index,
    ttl: { unknown: config.lookup.unknownTtl, default: config.lookup.defaultTtl },
  });
  const dataVersion = db.prepare("PRAGMA data_version");
  const readDataVersion = (): number =>
    (dataVersion.get() as { data_version: number }).data_version;
  let seenVersion = readDataVersion();
  let localChanges = totalChanges(db);
  let closed = false;
  // One build at a time on the builder connection; callers arriving meanwhile
  // share the next build, which starts after the current one and sees their writes.
  let running: Promise<ReputationIndex> | undefined;
  let queued: Promise<ReputationIndex> | undefined;
  const build = async (): Promise<ReputationIndex> => {
    seenVersion = readDataVersion();
    localChanges = totalChanges(db);
    index.current = await buildIndex(builder, { now: deps.clock.now(), pause });
    return index.current;
  };

  const node: Node = {
    config,
    db,
    reputation,
    index,
    refreshIndex(): Promise<ReputationIndex> {
      if (running === undefined) {
        running = build().finally(() => (running = undefined));
        return running;
      }
      queued ??= running.catch(() => {}).then(() => {
        queued = undefined;
        return node.refreshIndex();
      });
      return queued;
    },
    async refreshIfChanged(): Promise<boolean> {
      // data_version moves when another connection commits; total_changes when this one writes.
      if (readDataVersion() === seenVersion && totalChanges(db) === localChanges) return false;
      const built = await node.refreshIndex();
      deps.log.info("Reloaded reputation index", {
        keys: built.prefixes.size,
        millis: built.buildMillis,
      });
      return true;
    },
    close(): void {
      if (closed) return;
      closed = true;
      if (builder.isOpen) builder.close();
      if (db.isOpen) db.close();
    },
  };
  return node;
}

function totalChanges(db: DatabaseSync): number {
  return Number((db.prepare("SELECT total_changes() AS n").get() as { n: number }).n);
}

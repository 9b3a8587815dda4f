/**
 * The node assembled: the data folder, the database (migrated), the in-memory
 * index and look-up service, and the licence components. `serve`, the offline
 * CLI commands and the tests all open a node the same way.
 */
import { join } from "node:path";
import { type Clock, type Config, type Logger, quote, StoreError } from "../core/mod.ts";
import {
  type DatabaseSync,
  EntryRepository,
  type GenerationName,
  LicenceRepository,
  migrate,
  openDatabase,
  readGenerations,
  tightenDataDir,
  WriteStamp,
} from "../store/mod.ts";
import {
  type IndexHolder,
  IndexKeeper,
  Reputation,
  type ReputationIndex,
} from "../reputation/mod.ts";
import type { MirrorModeHolder } from "../mirror/mod.ts";
import {
  ensureStatement,
  LicenceAuthenticator,
  LicenceService,
  loadOrCreateSecret,
  NodeParticipation,
} from "../licences/mod.ts";

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
  readonly licences: LicenceService;
  readonly auth: LicenceAuthenticator;
  readonly participation: NodeParticipation;
  /** How look-ups use the synced mirror; the sync service sets it. */
  readonly mirrorMode: MirrorModeHolder;
  /** Rebuilds the index from the database and swaps it in. */
  refreshIndex(): Promise<ReputationIndex>;
  /**
   * Catches up with writes by other processes (or connections): rebuilds the
   * index, forgets cached licences or re-reads settings, as the change counters
   * say. Returns what changed.
   */
  refreshIfChanged(): Promise<GenerationName[]>;
  /** Resolves once the index built last is saved (the serving node waits for it on stop). */
  indexSaved(): Promise<void>;
  close(): void;
}

/** What {@link openNode} needs. */
export interface NodeDeps {
  clock: Clock;
  log: Logger;
  /**
   * Write the look-up index to `DATA/index.bin` after every build, so the next start reads it
   * instead of scanning every key: the serving node does; one-off commands only read it.
   */
  saveIndex?: boolean;
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
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError(
      `Cannot create data folder ${quote(dataDir)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  await tightenDataDir(dataDir, options.log);
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

/** Opens the store, builds the index and wires the look-up and licence services. */
export async function openNode(config: Config, deps: NodeDeps): Promise<Node> {
  const { clock, log } = deps;
  const db = await openStore(config.dataDir, { cacheMiB: config.store.cacheMiB, log });
  let builder: DatabaseSync | undefined;
  try {
    const secret = await loadOrCreateSecret(config.dataDir, db);
    await ensureStatement(db, clock.now());
    builder = openDatabase(databasePath(config.dataDir), { cacheMiB: 8 });
    const keeper = await IndexKeeper.open(builder, clock, {
      dataDir: config.dataDir,
      save: deps.saveIndex ?? false,
      warn: (message) => log.warn(message),
    });
    const mirrorMode: MirrorModeHolder = { mode: "current" };
    const reputation = new Reputation({
      entries: new EntryRepository(db),
      index: keeper.holder,
      ttl: { unknown: config.lookup.unknownTtl, default: config.lookup.defaultTtl },
      mirrorMode,
    });
    const licenceRows = new LicenceRepository(db);
    const participation = new NodeParticipation(db, clock);
    const auth = new LicenceAuthenticator({
      db,
      licences: licenceRows,
      secret,
      clock,
      participation,
    });
    const licences = new LicenceService({ db, licences: licenceRows, secret, clock });
    return assemble({
      config,
      db,
      builder,
      keeper,
      reputation,
      licences,
      auth,
      participation,
      mirrorMode,
      log,
    });
  } catch (err) {
    builder?.close();
    db.close();
    throw err;
  }
}

function assemble(parts: {
  config: Config;
  db: DatabaseSync;
  builder: DatabaseSync;
  keeper: IndexKeeper;
  reputation: Reputation;
  licences: LicenceService;
  auth: LicenceAuthenticator;
  participation: NodeParticipation;
  mirrorMode: MirrorModeHolder;
  log: Logger;
}): Node {
  const { db, builder, keeper, auth, participation, log } = parts;
  const writes = new WriteStamp(db);
  let seenStamp = writes.read();
  // The index's own generation, not the database's now: a write that landed after the index
  // was built or read is then seen as a change by the first poll.
  let seen = { ...readGenerations(db), entries: keeper.holder.current.generation };
  let closed = false;
  return {
    config: parts.config,
    db,
    reputation: parts.reputation,
    index: keeper.holder,
    licences: parts.licences,
    auth,
    participation,
    mirrorMode: parts.mirrorMode,
    async refreshIndex(): Promise<ReputationIndex> {
      // Read the counter first: the build then includes at least those writes,
      // so the reload timer need not build the same index again.
      // Marked seen before the build starts, so a reload check during the build
      // does not queue a second, identical one.
      const entries = readGenerations(db).entries;
      seen = { ...seen, entries };
      return await keeper.refresh(entries);
    },
    async refreshIfChanged(): Promise<GenerationName[]> {
      const now = writes.read();
      if (now === seenStamp) return [];
      seenStamp = now;
      const current = readGenerations(db);
      const changed = (Object.keys(current) as GenerationName[]).filter((n) =>
        current[n] !== seen[n]
      );
      seen = current;
      if (changed.includes("settings")) participation.reload();
      if (changed.includes("licences")) auth.invalidate();
      if (changed.includes("entries")) {
        const built = await keeper.refresh(current.entries);
        log.info("Reloaded reputation index", {
          keys: built.prefixes.size,
          millis: built.buildMillis,
        });
      }
      return changed;
    },
    indexSaved(): Promise<void> {
      return keeper.saved();
    },
    close(): void {
      if (closed) return;
      closed = true;
      if (builder.isOpen) builder.close();
      if (db.isOpen) db.close();
    },
  };
}

/** Opening the node's SQLite database with the pragmas every connection needs. */
import { DatabaseSync } from "node:sqlite";
import { quote, StoreError } from "../core/mod.ts";

/** Options for {@link openDatabase}. */
export interface OpenOptions {
  /** Page cache size in MiB for this connection. */
  cacheMiB?: number;
  /** Open read-only (for `db check` and the offline `lookup`). */
  readOnly?: boolean;
}

/**
 * Opens (creating if needed) a database in WAL mode. WAL lets the server keep
 * answering while an import or sync commits, and `synchronous=NORMAL` in WAL mode
 * keeps every committed transaction across a power cut except possibly the last.
 */
export function openDatabase(path: string, options: OpenOptions = {}): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (!options.readOnly && path !== ":memory:") createPrivate(path);
    db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  } catch (err) {
    throw new StoreError(`Cannot open database ${quote(path)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    if (!options.readOnly) {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
    }
    db.exec(`PRAGMA cache_size = ${-1024 * (options.cacheMiB ?? 64)}`);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA temp_store = MEMORY");
  } catch (err) {
    db.close();
    throw new StoreError(`Cannot open database ${quote(path)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return db;
}

/**
 * Creates the database file 0600 if it does not exist, whatever the umask:
 * SQLite then gives its `-wal` and `-shm` files the same mode. An empty file is
 * a valid empty database.
 */
function createPrivate(path: string): void {
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
}

/** Runs `fn` inside `BEGIN IMMEDIATE` … `COMMIT`, rolling back if it throws. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE` and commits if it resolves to true, rolls
 * back if it resolves to false or throws; resolves to whether it committed.
 * The write lock is held while the event loop runs, so only for a writer that
 * must read all of its input before it knows whether to keep it (an import).
 */
export async function transactionAsync(
  db: DatabaseSync,
  fn: () => Promise<boolean>,
): Promise<boolean> {
  db.exec("BEGIN IMMEDIATE");
  try {
    const commit = await fn();
    db.exec(commit ? "COMMIT" : "ROLLBACK");
    return commit;
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Runs `fn` inside one read transaction (`BEGIN` … `COMMIT`): every read in it
 * sees the same committed state, and a run of reads opens one transaction
 * rather than one a statement.
 */
export function readTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN");
  try {
    return fn();
  } finally {
    db.exec("COMMIT");
  }
}

/**
 * {@link readTransaction} for reads that await between chunks. Give it a
 * connection of its own: any statement run on it meanwhile joins the transaction.
 */
export async function readTransactionAsync<T>(
  db: DatabaseSync,
  fn: () => Promise<T>,
): Promise<T> {
  db.exec("BEGIN");
  try {
    return await fn();
  } finally {
    db.exec("COMMIT");
  }
}

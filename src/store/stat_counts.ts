/**
 * A scratch SQLite file of counts by key, for counting more distinct strings than
 * fit in memory. It is created in the folder the caller names (statistics, not
 * the system's temporary folder, which is often a RAM disk) and unlinked as soon
 * as it is open, so a crash leaves nothing behind.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import { quote, StoreError } from "../core/mod.ts";

const COUNTS_FILE_PREFIX = ".counts-";

/** The table `counts (key, n)` in a temporary file; call {@link close} when done. */
export class CountsFile {
  readonly #db: DatabaseSync;
  readonly #upsert: StatementSync;
  readonly #path: string;
  #unlinked = false;

  /** Creates the file in `dir` with a page cache of `cacheMiB` MiB. */
  constructor(dir: string, cacheMiB: number) {
    this.#path = join(dir, `${COUNTS_FILE_PREFIX}${crypto.randomUUID()}.sqlite`);
    try {
      this.#db = new DatabaseSync(this.#path);
    } catch (err) {
      throw new StoreError(
        `Cannot create the temporary counting file ${quote(this.#path, Infinity)}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
    try {
      // Nothing here needs to survive a crash: no journal, no sync, one connection.
      this.#db.exec(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; " +
          `PRAGMA cache_size = ${-1024 * cacheMiB}; PRAGMA temp_store = FILE; ` +
          "CREATE TABLE counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
      );
      this.#upsert = this.#db.prepare(
        "INSERT INTO counts (key, n) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = n + excluded.n",
      );
    } catch (err) {
      this.close();
      throw new StoreError(
        `Cannot use the temporary counting file ${quote(this.#path, Infinity)}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
    try {
      // POSIX keeps an unlinked file readable by whoever has it open.
      Deno.removeSync(this.#path);
      this.#unlinked = true;
    } catch {
      // Where an open file cannot be removed, close() removes it.
    }
  }

  /** Adds every count in `counts` to the stored ones, in one transaction. */
  add(counts: Map<string, number>): void {
    this.#db.exec("BEGIN");
    try {
      for (const [key, n] of counts) this.#upsert.run(key, n);
      this.#db.exec("COMMIT");
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw new StoreError(
        `Cannot write the temporary counting file ${quote(this.#path, Infinity)}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
  }

  /** The `limit` largest counts, largest first, ties by key in code point order. */
  top(limit: number): [string, number][] {
    // With LIMIT, SQLite's sorter keeps only `limit` rows: memory stays small.
    const rows = this.#db.prepare("SELECT key, n FROM counts ORDER BY n DESC, key LIMIT ?")
      .all(limit) as { key: string; n: number }[];
    return rows.map((row) => [row.key, row.n]);
  }

  /** The sum of all counts, and how many keys there are. */
  totals(): { records: number; distinct: number } {
    const row = this.#db.prepare(
      "SELECT count(*) AS distinct_keys, total(n) AS records FROM counts",
    )
      .get() as { distinct_keys: number; records: number };
    return { records: row.records, distinct: row.distinct_keys };
  }

  /** Closes the file and removes it if it could not be removed while open. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
    if (!this.#unlinked) {
      try {
        Deno.removeSync(this.#path);
      } catch {
        // Gone already; removeCountFiles() sweeps any left at the next start.
      }
      this.#unlinked = true;
    }
  }
}

/** Removes counting files left in `dir` (only where open files cannot be unlinked). */
export async function removeCountFiles(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.startsWith(COUNTS_FILE_PREFIX)) {
        await Deno.remove(join(dir, entry.name)).catch(() => {});
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
